#include "http/tls_context.h"

#include <boost/asio/ssl/context.hpp>

namespace wik::http {
namespace {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> base_context(ssl::context::method method) {
  auto context = std::make_unique<ssl::context>(method);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  return context;
}

}  // namespace

Result<std::unique_ptr<ssl::context>> make_server_tls_context(const TlsFiles& files) {
  auto context = base_context(ssl::context::tls_server);
  boost::system::error_code ec;
  if (context->use_certificate_chain_file(files.certificate_chain_file, ec); ec) {
    return Error(ErrorCode::kConfig, "cannot use TLS certificate file " + files.certificate_chain_file,
                 ec.message());
  }
  if (context->use_private_key_file(files.private_key_file, ssl::context::pem, ec); ec) {
    return Error(ErrorCode::kConfig, "cannot use TLS private key file " + files.private_key_file, ec.message());
  }
  return context;
}

Result<std::unique_ptr<ssl::context>> make_client_tls_context(bool verify_peer, const std::string& ca_file) {
  auto context = base_context(ssl::context::tls_client);
  boost::system::error_code ec;
  if (!ca_file.empty()) {
    if (context->load_verify_file(ca_file, ec); ec) {
      return Error(ErrorCode::kConfig, "cannot load CA file " + ca_file, ec.message());
    }
  } else if (context->set_default_verify_paths(ec); ec) {
    return Error(ErrorCode::kConfig, "cannot load the system's trusted certificates", ec.message());
  }
  context->set_verify_mode(verify_peer ? ssl::verify_peer : ssl::verify_none);
  return context;
}

}  // namespace wik::http
