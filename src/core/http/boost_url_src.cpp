// The one translation unit that compiles Boost.URL (header-only use through src.hpp).
#include <boost/url/src.hpp>
