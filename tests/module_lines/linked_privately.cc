// A module that a linked library links PRIVATE (bd_ingest uses bd_cron): the compiler must
// not find its header either (tests/module_lines/CMakeLists.txt).
#include "cron/cron.h"
