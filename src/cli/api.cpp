// wik api: makes one Graph API call as an installed community and prints the JSON response, for an
// operator checking what the platform answers. The install's token is read from the store and
// signed by graph::GraphClient (appsecret_proof + appsecret_time); it is never printed. A refused
// call prints the platform's error code ("graph error 190/458") and exits 1.
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>

#include "app/graph_access.h"
#include "cli/app_graph.h"
#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/operator.h"
#include "config/config.h"
#include "graph/graph_client.h"

namespace wik::cli {
namespace {

using boost::beast::http::verb;
using JsonResult = Result<boost::json::value>;

struct ApiOptions {
  std::vector<std::string> words;   // [METHOD] PATH
  std::vector<std::string> fields;  // name=value
  std::string community_id;
};

// Returns the Graph request the arguments describe: GET unless a method is given; fields go into
// the query of a GET or DELETE and into a JSON object body of a POST.
Result<graph::GraphRequest> request_from(const ApiOptions& options) {
  graph::GraphRequest request;
  std::string method = options.words.size() == 2 ? options.words[0] : "GET";
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  if (method == "POST") {
    request.method = verb::post;
    request.body = boost::json::object();
  } else if (method == "DELETE") {
    request.method = verb::delete_;
  } else if (method != "GET") {
    return Error(ErrorCode::kInvalidArgument, "the method must be GET, POST or DELETE");
  }
  request.path = options.words.back();
  if (request.path.empty() || request.path.front() != '/') {
    return Error(ErrorCode::kInvalidArgument, "the path must start with '/', as in /me or /community/members");
  }
  for (const std::string& field : options.fields) {
    const std::size_t equals = field.find('=');
    if (equals == 0 || equals == std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, "a field is name=value");
    }
    std::string name = field.substr(0, equals);
    std::string value = field.substr(equals + 1);
    if (request.body) {
      request.body->as_object()[name] = value;
    } else {
      request.query.emplace_back(std::move(name), std::move(value));
    }
  }
  return request;
}

int run_api(const GlobalOptions& global, const ApiOptions& options) {
  auto request = request_from(options);
  if (!request) return report(request.error(), "api", 1);
  auto opened = open_operator_store(global);
  if (!opened) return report(opened.error(), "api", 2);
  auto app_graph = connect_app_graph(opened->config);
  if (!app_graph) return report(app_graph.error(), "api", 2);
  auto install = app::install_auth(*opened->store, options.community_id);
  if (!install) return report(install.error(), "api", 1);
  const JsonResult response = run_to_end(**app_graph, (*app_graph)->graph->call(*install, std::move(*request)));
  if (!response) return report(response.error(), "api", 1);
  std::printf("%s\n", boost::json::serialize(*response).c_str());
  return 0;
}

}  // namespace

void add_api_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ApiOptions>();
  CLI::App* command = app.add_subcommand(
      "api", "Call the Graph API as an installed community (signed with appsecret_proof) and print the JSON answer");
  command->add_option("words", options->words, "[METHOD] PATH: GET (default), POST or DELETE, and a path like /me")
      ->required()
      ->expected(1, 2);
  command->add_option("-f,--field", options->fields,
                      "name=value; repeatable. In the query for GET and DELETE, in a JSON body for POST");
  command->add_option("--community", options->community_id, "The installed community to call as")->required();
  command->callback([&global, options, &exit_code] { exit_code = run_api(global, *options); });
}

}  // namespace wik::cli
