// The connection coroutine: one per accepted connection, owning its socket, stream and buffer. It
// runs on an io_context served by exactly one thread, which makes that executor the connection's
// strand: nothing of the connection ever runs concurrently. Private to src/http.
//
// A connection alternates between two phases:
//   idle     waiting for the first byte of the next request, bounded by idle_timeout; total
//            cancellation (the server draining) ends the connection here, without a response;
//   request  reading one request (bounded as a whole by request_timeout, answered 408 when it runs
//            out), running its handler and writing the response (write_timeout); only terminal
//            cancellation interrupts this phase, so a draining server finishes it and then closes.
// Requests already buffered (pipelining) are answered in order without waiting. Every failure of
// the peer ends in a response from the error table or a closed connection, never an exception.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "http/io.h"

namespace wik::http {

class ServerState;
class Watchdog;

// Serves the accepted `socket` until it closes. When `reject` is true, answers 503 (too many
// connections) and closes instead. Spawn it on the socket's executor: an io_context run by one
// thread, whose `watchdog` enforces the connection's deadlines. Borrows `state` and `watchdog`,
// which must outlive it.
boost::asio::awaitable<void> serve_connection(ServerState& state, Watchdog& watchdog, io::Socket socket, bool reject);

}  // namespace wik::http
