# SPDX-License-Identifier: MIT
# The web UI's assets as a C source (GW_UI_ASSETS) compiled into libgw (src/ui/ui_int.h):
# npm ci from web/package-lock.json (once, into web/node_modules), then web/build.mjs bundles
# web/src and writes the table, failing when the first screen's JavaScript is over budget.
# With -DGW_UI=OFF the table is empty and the gateway serves no UI.
set(GW_UI_ASSETS ${CMAKE_BINARY_DIR}/ui_assets.c)
if(GW_UI)
  find_program(GW_NPM npm REQUIRED)
  find_program(GW_NODE node REQUIRED)
  set(web ${CMAKE_SOURCE_DIR}/web)
  file(GLOB_RECURSE GW_WEB_SOURCES CONFIGURE_DEPENDS ${web}/src/*)
  add_custom_command(OUTPUT ${web}/node_modules/.package-lock.json
    COMMAND ${GW_NPM} ci --no-audit --no-fund --silent
    DEPENDS ${web}/package-lock.json ${web}/package.json
    WORKING_DIRECTORY ${web}
    COMMENT "web UI: npm ci")
  add_custom_command(OUTPUT ${GW_UI_ASSETS}
    COMMAND ${GW_NODE} build.mjs --out ${CMAKE_BINARY_DIR}/web --c ${GW_UI_ASSETS}
    DEPENDS ${GW_WEB_SOURCES} ${web}/build.mjs ${web}/node_modules/.package-lock.json
    WORKING_DIRECTORY ${web}
    COMMENT "web UI: bundling web/src")
else()
  file(WRITE ${GW_UI_ASSETS} "/* the web UI was not built (-DGW_UI=OFF) */\n"
       "#include \"base/prelude.h\"\n#include \"ui/ui_int.h\"\n"
       "const struct ui_asset ui_assets[1];\nconst size_t ui_asset_count = 0;\n")
endif()
