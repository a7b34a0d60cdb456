// A module the target does not link: the compiler must not find its header
// (tests/module_lines/CMakeLists.txt).
#include "store/store.h"
