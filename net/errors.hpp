// errors: helpers for net/'s own files to build error codes (the category is in errors.cpp).
#pragma once

#include <weft/net/errors.hpp>

namespace weft::net::detail {

// sys wraps an errno value.
inline std::error_code sys(int e) { return {e, std::system_category()}; }

}  // namespace weft::net::detail
