# SPDX-License-Identifier: MIT
# docs/openapi.json as a C source (GW_OPENAPI_SOURCE) compiled into libgw, served at
# GET /api/v1/openapi.json (src/api/api_openapi.c): the bytes of the file, its length and an ETag
# (the first 32 hex digits of its SHA-256). The build fails when the file is not valid JSON.
# Included by CMakeLists.txt; run as a script (cmake -P) by the rule it sets up.
if(CMAKE_SCRIPT_MODE_FILE)
  file(READ ${IN} text)
  string(JSON version ERROR_VARIABLE err GET "${text}" openapi)
  if(err)
    message(FATAL_ERROR "${IN} is not a valid OpenAPI document: ${err}")
  endif()
  string(SHA256 sha "${text}")
  string(SUBSTRING ${sha} 0 32 etag)
  file(READ ${IN} hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR n "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  file(WRITE ${OUT}.tmp
    "/* generated from docs/openapi.json by docs/openapi.cmake (never committed) */\n"
    "#include <stddef.h>\n"
    "extern const unsigned char api_openapi_doc[];\n"
    "extern const size_t api_openapi_len;\n"
    "extern const char api_openapi_etag[];\n"
    "const unsigned char api_openapi_doc[] = {\n${bytes}0};\n"
    "const size_t api_openapi_len = ${n};\n"
    "const char api_openapi_etag[] = \"\\\"${etag}\\\"\";\n")
  file(RENAME ${OUT}.tmp ${OUT})
  return()
endif()

set(GW_OPENAPI_SOURCE ${CMAKE_BINARY_DIR}/api_openapi_doc.c)
add_custom_command(OUTPUT ${GW_OPENAPI_SOURCE}
  COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_SOURCE_DIR}/docs/openapi.json -DOUT=${GW_OPENAPI_SOURCE}
          -P ${CMAKE_SOURCE_DIR}/docs/openapi.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/openapi.json ${CMAKE_SOURCE_DIR}/docs/openapi.cmake
  COMMENT "OpenAPI document: embedding docs/openapi.json")
