// context: the only code that touches the context-switch backend (Boost.Context's fcontext, or
// asm/ with -Dcontext=asm; both export the same three functions).
// Go's equivalents are gogo (jump into a G) and mcall (switch to g0 and run a function there).
#pragma once

#include <cstddef>

namespace weft::detail {

// Ctx is a suspended context: the stack pointer where its registers were saved.
using Ctx = void*;

// Transfer is what a switch delivers to the resumed side: the context that was just suspended
// and one pointer of data. Layout-compatible with boost::context::detail::transfer_t.
struct Transfer {
  Ctx ctx;
  void* data;
};

// ctx_make prepares a context on the stack whose highest usable address is `top` (size bytes
// below it) that starts in fn when first jumped to.
Ctx ctx_make(void* top, std::size_t size, void (*fn)(Transfer));
// ctx_jump suspends the caller and resumes `to`, which receives {caller's ctx, data}.
Transfer ctx_jump(Ctx to, void* data);
// ctx_ontop suspends the caller, switches to `to`'s stack and calls fn({caller's ctx, data}) there
// on top of `to`'s suspended frame; fn's result is what `to`'s pending switch returns.
Transfer ctx_ontop(Ctx to, void* data, Transfer (*fn)(Transfer));

}  // namespace weft::detail
