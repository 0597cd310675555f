# transaxx_proto_library(NAME PROTO_ROOT DIR PROTOS a.proto b.proto [GRPC] [DEPS lib...])
#
# Generates C++ (and, with GRPC, gRPC service stubs) for PROTOS, given
# relative to PROTO_ROOT, and wraps them in a static library whose include
# directory is SYSTEM, so generated code never trips our warning policy.
function(transaxx_proto_library name)
  cmake_parse_arguments(ARG "GRPC" "PROTO_ROOT" "PROTOS;DEPS;IMPORT_DIRS" ${ARGN})
  set(out_dir ${CMAKE_BINARY_DIR}/gen/${name})
  set(srcs)
  set(import_flags -I${ARG_PROTO_ROOT})
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    list(APPEND import_flags -I${dir})
  endforeach()
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(outs ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h)
    set(plugin_args)
    if(ARG_GRPC)
      list(APPEND outs ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h)
      set(plugin_args --grpc_out=${out_dir}
                      --plugin=protoc-gen-grpc=${TRANSAXX_GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND protobuf::protoc ${import_flags} --cpp_out=${out_dir} ${plugin_args}
              ${ARG_PROTO_ROOT}/${proto}
      DEPENDS ${ARG_PROTO_ROOT}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${name} PUBLIC gRPC::grpc++)
  endif()
endfunction()
