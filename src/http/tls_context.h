// TLS contexts for the server and the client (OpenSSL through Asio). Private to src/http.
//
// Both accept TLS 1.2 and 1.3 only. The server context loads a PEM certificate chain and private
// key. The client context verifies the peer by default, against the system's trust store or a
// given CA file; verification can only be turned off explicitly. Failures to load files are kConfig.
#pragma once

#include <wik/result.h>

#include <memory>
#include <string>

#include "http/server/options.h"

namespace boost::asio::ssl {
class context;
}

namespace wik::http {

// Returns a server context serving `files`, or kConfig naming the file that could not be used.
Result<std::unique_ptr<boost::asio::ssl::context>> make_server_tls_context(const TlsFiles& files);

// Returns a client context: peer verification on unless `verify_peer` is false; trusted roots from
// `ca_file` when not empty, else the system default paths. kConfig if `ca_file` cannot be loaded.
Result<std::unique_ptr<boost::asio::ssl::context>> make_client_tls_context(bool verify_peer,
                                                                           const std::string& ca_file);

}  // namespace wik::http
