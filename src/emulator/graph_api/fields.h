// Field selection and paging of Graph reads (PROTOCOL.md §2.6, §11.3).
//
// `fields=a,b.as(x),c.limit(2){d,e{f}}` is parsed into a tree; a Node (everything an object can
// show, the fields it withholds for lack of permission, its type name) is reduced to the selected
// fields. A requested field the node does not have is the platform's "nonexisting field" error; a
// withheld one is omitted silently. Edges ({"data":[…]}) honour .limit(n) and nested selections.
// Top-level edges are paged with limit/after/before cursors and a `next` link built from the
// Graph host URL (never carrying the token or proof). Pure functions; input bounded (text length,
// nesting depth, limit range) so hostile selections cannot exhaust the emulator.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/graph_api/graph_call.h"

namespace wik::emulator {

struct FieldSpec {
  std::string name;
  std::string alias;                 // .as(alias); empty: the name
  std::optional<std::size_t> limit;  // .limit(n)
  std::vector<FieldSpec> children;   // {…}
};

// Parses a selection ("" gives an empty list). Syntax errors are kInvalidParameter.
Checked<std::vector<FieldSpec>> parse_fields(std::string_view text);

// Everything one object can show.
struct Node {
  std::string type;  // "User", "Group", … (named in errors)
  boost::json::object fields;
  std::set<std::string> withheld;         // known fields left out for lack of permission
  std::vector<std::string> default_fields;  // shown when no selection is given
};

// Returns the fields of `node` that `selection` names (its defaults when `selection` is empty).
Checked<boost::json::object> select_fields(const Node& node, const std::vector<FieldSpec>& selection);

// Returns the call's `fields` parameter parsed.
Checked<std::vector<FieldSpec>> requested_fields(const GraphCall& call);

// Returns one page of `nodes` (each reduced to the call's fields) as {"data":[…],"paging":{…}}, with
// cursors and `next`/`previous` links to `base_url` + the call's version and path.
Reply paged_reply(const GraphCall& call, const std::vector<Node>& nodes, const std::string& base_url);

}  // namespace wik::emulator
