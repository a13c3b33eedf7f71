// context_boost: the context-switch backend on Boost.Context's fcontext (the default).
// Selected by meson option context=boost; asm/ provides the same functions for context=asm.
#include <boost/context/detail/fcontext.hpp>

#include "context.hpp"

namespace bcd = boost::context::detail;

namespace weft::detail {

static_assert(sizeof(Transfer) == sizeof(bcd::transfer_t));

// The two transfer types are layout-identical; the cast goes through void(*)() as the standard
// way to say so to -Wcast-function-type.
template <class To, class From>
To fn_cast(From f) {
  return reinterpret_cast<To>(reinterpret_cast<void (*)()>(f));
}

Ctx ctx_make(void* top, std::size_t size, void (*fn)(Transfer)) {
  return bcd::make_fcontext(top, size, fn_cast<void (*)(bcd::transfer_t)>(fn));
}

Transfer ctx_jump(Ctx to, void* data) {
  bcd::transfer_t t = bcd::jump_fcontext(to, data);
  return {t.fctx, t.data};
}

Transfer ctx_ontop(Ctx to, void* data, Transfer (*fn)(Transfer)) {
  bcd::transfer_t t =
      bcd::ontop_fcontext(to, data, fn_cast<bcd::transfer_t (*)(bcd::transfer_t)>(fn));
  return {t.fctx, t.data};
}

}  // namespace weft::detail
