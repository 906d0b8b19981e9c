# cmake -DSOURCE_DIR=web/console -DOUTPUT=file.cpp -P embed_console.cmake
# Writes a C++ file defining deliveryhub::app::console_files(): every .html, .js and .css under
# SOURCE_DIR (node_modules excluded) with its path relative to SOURCE_DIR, its bytes as hex (no
# character can break a literal) and the SHA-256 of its bytes (the ETag).
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*.html ${SOURCE_DIR}/*.js ${SOURCE_DIR}/*.css)
list(FILTER files EXCLUDE REGEX "(^|/)node_modules/")
list(SORT files)
set(arrays "")
set(entries "")
set(index 0)
foreach(file IN LISTS files)
  file(READ ${SOURCE_DIR}/${file} content HEX)
  file(SHA256 ${SOURCE_DIR}/${file} digest)
  string(LENGTH "${content}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
  string(APPEND arrays "constexpr unsigned char kFile${index}[] = {${bytes} 0};\n")
  string(APPEND entries "      {\"${file}\", {reinterpret_cast<const char*>(kFile${index}), ${size}}, \"${digest}\"},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from ${SOURCE_DIR}; do not edit.\n#include \"console_files.hpp\"\n\n"
  "namespace deliveryhub::app {\nnamespace {\n${arrays}}  // namespace\n\n"
  "const std::vector<ConsoleFile>& console_files() {\n  static const std::vector<ConsoleFile> files = {\n${entries}  };\n"
  "  return files;\n}\n\n}  // namespace deliveryhub::app\n")
# Only a changed file is written again: nothing recompiles when the console did not change.
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
