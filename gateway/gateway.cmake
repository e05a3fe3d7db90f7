add_library(kedge_gateway STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/log.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/backend.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/connection.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/server.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/snapshot.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/supervisor.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/cpu_budget.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/admin.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/check.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/commands.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/tls_bio.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/upstream_tls.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/sasl_client.cpp)
target_include_directories(kedge_gateway PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_definitions(kedge_gateway PRIVATE KEDGE_VERSION="${PROJECT_VERSION}")
target_link_libraries(kedge_gateway PUBLIC kedge_config kedge_sni kedge_kafka_codec kedge_certs
  PkgConfig::LIBUV fmt::fmt kedge_metrics kedge_proxy llhttp OpenSSL::Crypto Threads::Threads)

# Exposition, state JSON and readiness: no libuv, unit-tested on their own.
add_library(kedge_metrics STATIC ${CMAKE_CURRENT_SOURCE_DIR}/metrics.cpp)
target_include_directories(kedge_metrics PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(kedge_metrics PUBLIC nlohmann_json::nlohmann_json fmt::fmt)

add_executable(kedge ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
target_compile_definitions(kedge PRIVATE KEDGE_VERSION="${PROJECT_VERSION}")
target_link_libraries(kedge PRIVATE kedge_gateway)
