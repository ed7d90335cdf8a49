# check_migrations.cmake: the applied migrations are frozen (ctest migrations.*).
#
#   cmake -DDIR=server/sql -P tests/check_migrations.cmake
#       compares every server/sql/*.sql with server/sql/CHECKSUMS (sha256sum's
#       format: "<sha256>  NNN_name.sql"); any difference fails, naming the file
#       and what to do.
#   cmake -DDIR=server/sql -DSELFTEST=1 -DWORK=DIR -P tests/check_migrations.cmake
#       proves the check can fail: on a copy in WORK it edits one migration,
#       deletes another and adds one that CHECKSUMS lacks, and expects each to
#       be caught (and the untouched copy to pass).
#
# cchc-server refuses a database whose recorded checksum differs from its
# embedded file (srv_migrate.c), but only once the file has reached a
# database; this check catches the edit in the test suite, before that.
cmake_minimum_required(VERSION 3.25)

# s_check(dir problems_var): the list of what is wrong in dir, empty if nothing.
function(s_check dir out)
  set(problems "")
  set(listed "")
  if(NOT EXISTS ${dir}/CHECKSUMS)
    list(APPEND problems "${dir}/CHECKSUMS is missing: it lists the sha256 of every migration")
  else()
    file(STRINGS ${dir}/CHECKSUMS lines)
    set(n 0)
    foreach(line IN LISTS lines)
      math(EXPR n "${n} + 1")
      if(NOT line MATCHES "^([0-9a-f]+)  ([0-9]+_[A-Za-z0-9_]+\\.sql)$")
        list(APPEND problems "CHECKSUMS line ${n} is not \"<sha256>  NNN_name.sql\": ${line}")
        continue()
      endif()
      set(want ${CMAKE_MATCH_1})
      set(f ${CMAKE_MATCH_2})
      string(LENGTH "${want}" len)
      if(NOT len EQUAL 64)
        list(APPEND problems "CHECKSUMS line ${n}: ${want} is not a sha256 (64 hex digits)")
        continue()
      endif()
      if(f IN_LIST listed)
        list(APPEND problems "CHECKSUMS lists ${f} twice (line ${n})")
        continue()
      endif()
      list(APPEND listed ${f})
      if(NOT EXISTS ${dir}/${f})
        list(APPEND problems "${f} is listed in CHECKSUMS but does not exist: an applied \
migration is never deleted or renamed, put it back (git checkout -- server/sql/${f})")
        continue()
      endif()
      file(SHA256 ${dir}/${f} got)
      if(NOT got STREQUAL want)
        list(APPEND problems "${f} has changed: CHECKSUMS lists ${want}, the file is \
${got}. An applied migration is never edited (databases would refuse this build): put it \
back (git checkout -- server/sql/${f}) and write the change as a new migration")
      endif()
    endforeach()
  endif()
  file(GLOB files RELATIVE ${dir} ${dir}/*.sql)
  list(SORT files)
  foreach(f IN LISTS files)
    if(NOT f IN_LIST listed)
      list(APPEND problems "${f} is not in server/sql/CHECKSUMS: add a new migration to it \
when it is final (cd server/sql && sha256sum ${f} >> CHECKSUMS), from then on it is frozen")
    endif()
  endforeach()
  set(${out} "${problems}" PARENT_SCOPE)
endfunction()

if(NOT DIR)
  message(FATAL_ERROR "usage: cmake -DDIR=server/sql [-DSELFTEST=1 -DWORK=DIR] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

if(NOT SELFTEST)
  s_check(${DIR} problems)
  if(problems)
    list(LENGTH problems n)
    foreach(p IN LISTS problems)
      message(STATUS "not ok - ${p}")
    endforeach()
    message(FATAL_ERROR "${n} problem(s) with the migrations in ${DIR} (see above)")
  endif()
  file(GLOB files ${DIR}/*.sql)
  list(LENGTH files n)
  message(STATUS "ok - the ${n} migrations in ${DIR} are those listed in CHECKSUMS")
  return()
endif()

# ---- self-test ----------------------------------------------------------------------
if(NOT WORK)
  message(FATAL_ERROR "SELFTEST needs -DWORK=DIR, a scratch directory")
endif()
set(copy ${WORK}/sql)
file(REMOVE_RECURSE ${copy})
file(MAKE_DIRECTORY ${copy})
file(GLOB files ${DIR}/*.sql)
list(SORT files)
file(COPY ${files} ${DIR}/CHECKSUMS DESTINATION ${copy})
s_check(${copy} problems)
if(problems)
  message(FATAL_ERROR "the untouched copy does not pass: ${problems}")
endif()
message(STATUS "ok - an untouched copy of the migrations passes")

list(GET files 0 first)
list(GET files -1 last)
get_filename_component(first ${first} NAME)
get_filename_component(last ${last} NAME)
file(APPEND ${copy}/${first} "-- an edit\n")
file(REMOVE ${copy}/${last})
file(WRITE ${copy}/999_not_listed.sql "SELECT 1;\n")
s_check(${copy} problems)
list(LENGTH problems n)
set(expect "^${first} has changed: .*is never edited;^${last} is listed in CHECKSUMS but does not exist;^999_not_listed.sql is not in server/sql/CHECKSUMS")
foreach(re IN LISTS expect)
  set(found 0)
  foreach(p IN LISTS problems)
    if(p MATCHES "${re}")
      set(found 1)
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "not caught: ${re}; the check said: ${problems}")
  endif()
endforeach()
if(NOT n EQUAL 3)
  message(FATAL_ERROR "expected 3 problems, got ${n}: ${problems}")
endif()
message(STATUS "ok - an edited (${first}), a deleted (${last}) and an unlisted migration are each caught")
file(REMOVE_RECURSE ${copy})
