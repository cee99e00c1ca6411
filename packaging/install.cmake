# SPDX-License-Identifier: MIT
# What `cmake --install` puts where (docs/INSTALL.md): the two programs, their man pages, the
# CLI's bash completion, the example configuration, and for the daemon a hardened systemd unit
# and a starting configuration. The unit and the configuration depend on the prefix chosen at
# install time (`cmake --install build --prefix /usr`, as packaging/build-debs.sh does), so
# packaging/install_system.cmake writes them then: with the prefix /usr they go to /etc and
# /lib/systemd/system as on Debian, otherwise under the prefix.
include(GNUInstallDirs)
install(TARGETS openclaw-gateway openclaw RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES share/bash-completion/completions/openclaw
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES share/man/man1/openclaw.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES packaging/openclaw-gateway.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES gateway.example.yaml
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/openclaw-gateway/examples)
install(CODE "set(GW_PACKAGING_DIR \"${CMAKE_CURRENT_SOURCE_DIR}/packaging\")
set(GW_STAGING_DIR \"${CMAKE_CURRENT_BINARY_DIR}/packaging\")
set(GW_BINDIR_REL \"${CMAKE_INSTALL_BINDIR}\")")
install(SCRIPT packaging/install_system.cmake)
