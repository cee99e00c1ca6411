# SPDX-License-Identifier: MIT
# Runs at install time (packaging/install.cmake): the systemd unit with the installed paths
# filled in, and the starting configuration, which is never overwritten once it exists (an
# operator's edits survive a reinstall). CMAKE_INSTALL_PREFIX is the install-time prefix here;
# file(INSTALL) adds DESTDIR.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(GW_SYSCONFDIR "/etc")
  set(gw_unitdir "/lib/systemd/system")
else()
  set(GW_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
  set(gw_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(GW_BINDIR "${CMAKE_INSTALL_PREFIX}/${GW_BINDIR_REL}")
configure_file("${GW_PACKAGING_DIR}/openclaw-gateway.service.in"
               "${GW_STAGING_DIR}/openclaw-gateway.service" @ONLY)
file(INSTALL "${GW_STAGING_DIR}/openclaw-gateway.service" DESTINATION "${gw_unitdir}")

set(gw_config "${GW_SYSCONFDIR}/openclaw/gateway.yaml")
if(EXISTS "$ENV{DESTDIR}${gw_config}")
  message(STATUS "Kept: $ENV{DESTDIR}${gw_config} (exists)")
else()
  file(INSTALL "${GW_PACKAGING_DIR}/gateway.yaml" DESTINATION "${GW_SYSCONFDIR}/openclaw")
endif()
