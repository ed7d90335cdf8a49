# Turns server/sql/NNN_name.sql files into a C array (run by the build), each
# with the sha256 of its bytes: the checksum schema_migrations keeps, to catch a
# migration edited after it was applied (srv_migrate.c).
set(out "/* generated from the files in server/sql by embed_sql.cmake: do not edit */\n")
string(APPEND out "#include \"srv_migrate.h\"\n\nconst srv_migration_t srv_migrations[] = {\n")
file(GLOB FILES ${DIR}/*.sql)
list(SORT FILES)
set(count 0)
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  string(REGEX MATCH "^([0-9]+)_" m ${name})
  if(NOT m)
    message(FATAL_ERROR "migration ${f}: name must be NNN_name.sql")
  endif()
  string(REGEX REPLACE "^0*([0-9]+)_.*$" "\\1" ver ${name})
  # Two branches may each add the next number; the merge must renumber one.
  if(DEFINED seen_${ver})
    message(FATAL_ERROR "migrations ${seen_${ver}} and ${name} have the same version ${ver}: "
            "renumber the one not yet applied anywhere")
  endif()
  set(seen_${ver} ${name})
  file(READ ${f} sql HEX)
  file(SHA256 ${f} sum)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${sql}")
  string(APPEND out "    {${ver}, \"${name}\", (const char[]){${bytes} 0}, \"${sum}\"},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND out "};\nconst int srv_migrations_count = ${count};\n")
file(WRITE ${OUT} "${out}")
