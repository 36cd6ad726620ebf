# Strict warnings for our own targets (applied per target by cl_target_defaults).
set(CL_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  -Wnull-dereference -Wmisleading-indentation -Wduplicated-cond -Wlogical-op
  # GCC 12 warns on designated initializers that leave members to their default
  # member initializers, which STYLE.md asks for (Options{.x = 1}).
  -Wno-missing-field-initializers)
if(CL_WERROR)
  list(APPEND CL_WARNING_FLAGS -Werror)
endif()
