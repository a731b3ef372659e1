// echo.cpp: replies to every chat message, with two quick replies.
#include <wik/app.h>

#include <cstdio>

boost::asio::awaitable<wik::Result<void>> on_message(wik::Context& context, const wik::Message& message) {
  wik::Reply reply = message.quick_reply_payload == "STOP"
                        ? wik::Reply::text("Bye!")
                        : wik::Reply::text("You said: " + message.text).quick_reply("Again", "AGAIN").quick_reply("Stop", "STOP");
  co_return co_await context.reply(reply);
}

boost::asio::awaitable<wik::Result<void>> on_mention(wik::Context& context, const wik::Mention& mention) {
  // Answer under the post that mentioned the bot (PROTOCOL.md §10). Arguments are named first:
  // g++ 12 mishandles some temporaries inside a co_await expression.
  std::string path = "/" + mention.post_id + "/comments";
  boost::json::value comment = boost::json::object{{"message", "On it!"}};
  auto posted = co_await context.graph(boost::beast::http::verb::post, std::move(path), {}, std::move(comment));
  if (!posted) co_return posted.error();
  co_return wik::ok_result();
}

int main() {
  auto config = wik::load_config();  // $WIK_CONFIG or ./wik.toml, then WIK_* variables
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().reason().c_str());
    return 2;
  }
  wik::App app(*config);
  app.on_message(on_message).on_mention(on_mention);
  app.schema("CREATE TABLE IF NOT EXISTS notes (community_id TEXT NOT NULL, body TEXT NOT NULL)")
      .register_table("notes", "community_id");  // your own table: purged on uninstall
  if (auto ran = app.run(); !ran) {
    std::fprintf(stderr, "%s\n", ran.error().reason().c_str());
    return 1;
  }
  return 0;
}
