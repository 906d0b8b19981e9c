# cmake -DINPUT=file -DOUTPUT=file.cpp -P embed_text.cmake
# Writes a C++ file defining deliveryhub::app::openapi_document() with INPUT's bytes as hex, so no
# character in the document can break the literal.
file(READ ${INPUT} content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <string_view>\n"
  "namespace deliveryhub::app {\nnamespace {\nconstexpr unsigned char kDocument[] = {${bytes} 0};\n}\n"
  "std::string_view openapi_document() { return {reinterpret_cast<const char*>(kDocument), ${size}}; }\n}\n")
