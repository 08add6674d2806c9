# Installs deploy/'s systemd units and cron line (run by `cmake --install`,
# see CMakeLists.txt). The files in deploy/ name the default prefix,
# /usr/local; installed elsewhere they are rewritten to name the sluice
# binary and the documents where this install put them, so that an
# installed unit always starts the binary installed beside it.
# Set by CMakeLists.txt: SLUICE_DEPLOY_SRC, SLUICE_DEPLOY_TMP,
# SLUICE_UNIT_DIR and SLUICE_CRON_DIR (relative to the prefix, or absolute).
foreach(dir SLUICE_UNIT_DIR SLUICE_CRON_DIR)
  if(NOT IS_ABSOLUTE "${${dir}}")
    set(${dir} "${CMAKE_INSTALL_PREFIX}/${${dir}}")
  endif()
endforeach()
file(MAKE_DIRECTORY "${SLUICE_DEPLOY_TMP}")
set(units sluice.service sluice@.service sluice-reconcile.service sluice-reconcile.timer)
set(staged)
foreach(f ${units} sluice.cron)
  file(READ "${SLUICE_DEPLOY_SRC}/${f}" text)
  string(REPLACE "/usr/local/bin/sluice" "${CMAKE_INSTALL_PREFIX}/bin/sluice" text "${text}")
  string(REPLACE "/usr/local/share/doc/sluice" "${CMAKE_INSTALL_PREFIX}/share/doc/sluice"
    text "${text}")
  file(WRITE "${SLUICE_DEPLOY_TMP}/${f}" "${text}")
endforeach()
foreach(f ${units})
  list(APPEND staged "${SLUICE_DEPLOY_TMP}/${f}")
endforeach()
file(INSTALL ${staged} DESTINATION "${SLUICE_UNIT_DIR}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE
  GROUP_READ WORLD_READ)
file(INSTALL "${SLUICE_DEPLOY_TMP}/sluice.cron" DESTINATION "${SLUICE_CRON_DIR}"
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
