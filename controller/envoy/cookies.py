"""Cookie rewriting (HTTPProxy cookieRewritePolicies) with Envoy's Lua filter, as upstream
v1.33 does: Envoy 1.40 has no native filter that edits Set-Cookie attributes (header
mutation can only replace a whole header value, not one cookie's attributes).

Every connection manager carries the Lua filter with one named script and no default code
(inactive); a weighted-cluster entry switches it on with `LuaPerRoute{name, filter_context}`,
the context holding the merged rules of the route and of that service. The script is this
project's own: it keeps a cookie's value and untouched attributes in their order, drops
the rewritten ones and appends their new values as Path, Domain, SameSite, Secure.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.dag import model
from controller.envoy import pb
from controller.envoy.core import any_of

LUA = "envoy.filters.http.lua"
SCRIPT_NAME = "cookie_rewrite.lua"
RULES = "cookie_rewrite_rules"

SCRIPT = """
local function trim(s)
  return (string.gsub(s, "^%s*(.-)%s*$", "%1"))
end

local function rewritten(cookie, rules)
  local eq = string.find(cookie, "=", 1, true)
  if eq == nil then return cookie end
  local name = trim(string.sub(cookie, 1, eq - 1))
  local rule = rules[name]
  if rule == nil then return cookie end
  local semi = string.find(cookie, ";", eq, true)
  local out = {string.sub(cookie, 1, (semi or 0) - 1)}
  local replaced = {path = rule.Path, domain = rule.Domain, samesite = rule.SameSite,
                    secure = rule.Secure}
  if semi ~= nil then
    for attr in string.gmatch(string.sub(cookie, semi + 1), "[^;]+") do
      local key = string.lower(trim(string.match(attr, "^[^=]*")))
      if key ~= "" and replaced[key] == nil then table.insert(out, trim(attr)) end
    end
  end
  if rule.Path ~= nil then table.insert(out, "Path=" .. rule.Path) end
  if rule.Domain ~= nil then table.insert(out, "Domain=" .. rule.Domain) end
  if rule.SameSite ~= nil then table.insert(out, "SameSite=" .. rule.SameSite) end
  if rule.Secure == true then table.insert(out, "Secure") end
  return table.concat(out, "; ")
end

function envoy_on_response(response_handle)
  local rules = response_handle:filterContext():get("cookie_rewrite_rules")
  if rules == nil or response_handle:headers():get("set-cookie") == nil then return end
  local cookies = {}
  for key, value in pairs(response_handle:headers()) do
    if key == "set-cookie" then table.insert(cookies, rewritten(value, rules)) end
  end
  response_handle:headers():remove("set-cookie")
  for _, cookie in ipairs(cookies) do response_handle:headers():add("set-cookie", cookie) end
end
"""


def cookie_rewrite_filter() -> pb.HttpFilter:
    """The connection managers' Lua filter: the named script, off until a route entry
    names it."""
    config = pb.Lua(source_codes={SCRIPT_NAME: pb.DataSource(inline_string=SCRIPT)})
    return pb.HttpFilter(name=LUA, typed_config=any_of(config))


def cookie_rewrite_per_route(rules: Iterable[model.CookieRewrite]) -> pb.Any:
    """The per-route Lua config: `rules` merged by cookie name in order (a later rule's
    attributes win, so a service's override its route's), as the script's context."""
    merged: dict[str, dict[str, object]] = {}
    for rule in rules:
        entry = merged.setdefault(rule.name, {})
        for attr, value in (("Path", rule.path), ("Domain", rule.domain),
                            ("Secure", rule.secure), ("SameSite", rule.same_site)):
            if value is not None:
                entry[attr] = value
    context = pb.Struct()
    context.update({RULES: {name: merged[name] for name in sorted(merged)}})
    return any_of(pb.LuaPerRoute(name=SCRIPT_NAME, filter_context=context))
