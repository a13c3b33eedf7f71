// context_asm: the context-switch backend on weft's own assembly (asm/switch_<arch>_*.S).
// Selected by meson option context=asm; context_boost.cpp provides the same functions.
#include "context.hpp"

// The routines in asm/ (hidden symbols: called directly, never through the PLT). Their
// argument and result registers are those of these C declarations: Transfer, two pointers, is
// returned in RAX:RDX (x86-64 SysV) or X0:X1 (AAPCS64) and passed in two argument registers.
extern "C" {
weft::detail::Ctx weft_ctx_make(void* top, std::size_t size, void (*fn)(weft::detail::Transfer));
weft::detail::Transfer weft_ctx_jump(weft::detail::Ctx to, void* data);
weft::detail::Transfer weft_ctx_ontop(weft::detail::Ctx to, void* data,
                                      weft::detail::Transfer (*fn)(weft::detail::Transfer));
}

namespace weft::detail {

// Each wrapper compiles to a single tail jump: the suspended frame's return address is the
// caller's, so the saved context and the unwinder see the caller directly.
Ctx ctx_make(void* top, std::size_t size, void (*fn)(Transfer)) {
  return weft_ctx_make(top, size, fn);
}

Transfer ctx_jump(Ctx to, void* data) { return weft_ctx_jump(to, data); }

Transfer ctx_ontop(Ctx to, void* data, Transfer (*fn)(Transfer)) {
  return weft_ctx_ontop(to, data, fn);
}

}  // namespace weft::detail
