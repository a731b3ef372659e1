-- wrk script of bench/webhook_ingest_bench.sh: POSTs signed Workplace webhook deliveries.
--
-- Reads the templates file $WIK_BENCH_TEMPLATES written by wik_webhook_ingest_server: the app secret
-- on the first line, then one delivery per community split around its message id ("prefix<TAB>
-- suffix"). Every request cycles to the next community and gets a message id no other request of
-- any run has ("m_<$WIK_BENCH_RUN><nonce>_<thread>_<n>", the nonce random per wrk process), so the server's de-duplication never answers
-- from a previous insert: every 200 is a new durable event. The X-Hub-Signature-256 HMAC is computed
-- per request with OpenSSL's libcrypto through LuaJIT's FFI (wrk runs LuaJIT; plain Lua has no HMAC).
local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d, size_t n,
                    unsigned char *md, unsigned int *md_len);
]]
local crypto = ffi.load("libcrypto.so.3")

local next_thread = 0
function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local secret, templates, run, path
local digest = ffi.new("unsigned char[32]")
local digest_length = ffi.new("unsigned int[1]")
local sha256 = crypto.EVP_sha256()
local hex = {}
for i = 0, 255 do hex[i] = string.format("%02x", i) end
local counter = 0

function init(args)
  local name = os.getenv("WIK_BENCH_TEMPLATES")
  assert(name, "WIK_BENCH_TEMPLATES is not set")
  local file = assert(io.open(name, "r"))
  secret = file:read("*l")
  templates = {}
  for line in file:lines() do
    local prefix, suffix = line:match("^([^\t]*)\t(.*)$")
    templates[#templates + 1] = { prefix, suffix }
  end
  file:close()
  assert(#templates > 0, "no templates")
  -- A warm-up and the measured run share WIK_BENCH_RUN: a random nonce keeps their mids apart.
  local urandom = assert(io.open("/dev/urandom", "rb"))
  local nonce = urandom:read(4)
  urandom:close()
  run = (os.getenv("WIK_BENCH_RUN") or "") .. string.format("%02x%02x%02x%02x", nonce:byte(1, 4))
  path = wrk.path
end

local function signature(body)
  crypto.HMAC(sha256, secret, #secret, body, #body, digest, digest_length)
  local out = {}
  for i = 0, 31 do out[i + 1] = hex[digest[i]] end
  return "sha256=" .. table.concat(out)
end

function request()
  counter = counter + 1
  local template = templates[counter % #templates + 1]
  local body = template[1] .. "m_" .. run .. "_" .. thread_index .. "_" .. counter .. template[2]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "facebookplatform/1.0 (+http://developers.facebook.com)",
    ["X-Hub-Signature-256"] = signature(body),
  }, body)
end
