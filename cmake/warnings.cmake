# Warnings every deliveryhub target compiles with (applied per target, never per directory).
add_library(deliveryhub_warnings INTERFACE)
target_compile_options(deliveryhub_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wno-unused-parameter)
