# Strict warnings for our own targets (applied per target by cl_target_defaults).
set(CL_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  -Wnull-dereference -Wmisleading-indentation -Wduplicated-cond -Wlogical-op)
if(CL_WERROR)
  list(APPEND CL_WARNING_FLAGS -Werror)
endif()
