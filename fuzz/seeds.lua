-- Writes the seed corpus: fuzz/corpus/<harness>/<name>, one small file per
-- input, laid out as each harness reads its bytes (see the comments at the
-- top of fuzz/fuzz_*.c). Run from the repository root with any Lua 5.1-5.4:
--   lua5.4 fuzz/seeds.lua
-- Files named regress-* are inputs that once broke an invariant; they are kept
-- (and replayed by .ci/fuzz) so the fix stays fixed. Re-running this script
-- rewrites the seeds it knows and leaves any other file alone.

local function write(harness, name, data)
  os.execute("mkdir -p fuzz/corpus/" .. harness)
  local f = assert(io.open("fuzz/corpus/" .. harness .. "/" .. name, "wb"))
  f:write(data)
  f:close()
end

local function u8(n) return string.char(n % 256) end
local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end
local function slice(s) return u8(#s) .. s end -- a length-prefixed slice (at most 255)

------------------------------------------------------------------------------
-- fuzz_response
------------------------------------------------------------------------------

-- index of a status in fuzz_response.c's table
local STATUS = { [200] = 0, [201] = 1, [204] = 2, [302] = 6, [400] = 8, [401] = 9, [404] = 11,
  [429] = 13, [500] = 15, [502] = 17, [503] = 18, [504] = 19 }
local SHAPE = { webhook = 0, update = 1, list = 2, delete = 3, test = 4, any = 5 }
local OP = { create = 0, list = 1, update = 2, delete = 3, test = 4, request = 5 }

local WEBHOOK = '{"id":"0123456789abcdef0123456789abcdef","model_name":"churn","creation_timestamp":'
  .. '1700000000000,"last_updated_timestamp":1700000000123,"events":["MODEL_VERSION_CREATED",'
  .. '"COMMENT_CREATED"],"status":"ACTIVE","description":"d","http_url_spec":{"url":'
  .. '"https://hooks.example/x","enable_ssl_verification":true}}'
local JOB_WEBHOOK = '{"id":"fedcba9876543210fedcba9876543210","events":["REGISTERED_MODEL_CREATED"],'
  .. '"status":"TEST_MODE","job_spec":{"job_id":"1","workspace_url":"https://w.example"}}'

-- direct: mode (shape), status, flags (1 location, 2 request id, 4 retry-after,
-- net kind << 3), three slices, then the body
local function direct(shape, status, body, h)
  h = h or {}
  local flags = (h.location and 1 or 0) + (h.request_id and 2 or 0) + (h.retry_after and 4 or 0)
    + (h.net or 0) * 8
  return u8(SHAPE[shape]) .. u8(STATUS[status]) .. u8(flags) .. slice(h.location or "")
    .. slice(h.request_id or "") .. slice(h.retry_after or "") .. body
end

local R = "fuzz_response"
write(R, "create-ok", direct("webhook", 201, '{"webhook":' .. WEBHOOK .. "}", { request_id = "req-1" }))
write(R, "create-job", direct("webhook", 200, '{"webhook":' .. JOB_WEBHOOK .. "}"))
write(R, "list-page", direct("list", 200, '{"webhooks":[' .. WEBHOOK .. "," .. JOB_WEBHOOK
  .. '],"next_page_token":"YWJj+/=="}'))
write(R, "list-empty", direct("list", 200, "{}"))
write(R, "list-last", direct("list", 200, '{"webhooks":[' .. WEBHOOK .. '],"next_page_token":""}'))
write(R, "update-ok", direct("update", 200, '{"webhook":' .. WEBHOOK .. "}"))
write(R, "update-empty", direct("update", 200, "{}"))
write(R, "delete-ok", direct("delete", 200, "{}"))
write(R, "delete-nobody", direct("delete", 204, ""))
write(R, "test-flat", direct("test", 200, '{"status_code":200,"body":"OK"}'))
write(R, "test-nested", direct("test", 200, '{"webhook":{"status_code":500,"body":"no"}}'))
write(R, "any-nulls", direct("any", 200, '{"a":null,"b":[1,2.0,null,1e400,-0],"c":{"d":null}}'))
write(R, "err-404", direct("webhook", 404, '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":'
  .. '"Registry webhook with ID \'x\' does not exist."}', { request_id = "abc" }))
write(R, "err-legacy", direct("list", 400, '{"error_code":400,"message":"legacy"}'))
write(R, "err-oauth", direct("list", 401, '{"error":"invalid_token"}'))
write(R, "err-text", direct("delete", 503, "TEMPORARILY_UNAVAILABLE: try again later",
  { retry_after = "3" }))
write(R, "err-html", direct("test", 500, "<html><head><title>500 Internal Server Error</title>"
  .. "</head><body><pre>Internal Server Error</pre></body></html>"))
write(R, "err-429-date", direct("list", 429, '{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow"}',
  { retry_after = "Wed, 21 Oct 2015 07:28:00 GMT" }))
write(R, "redirect", direct("list", 302, "", { location = "https://login.example/?next=%2F" }))
write(R, "net-timeout", direct("webhook", 200, "", { net = 5 }))
write(R, "net-too-large", direct("list", 200, "", { net = 7 }))
write(R, "html-200", direct("list", 200, "<!DOCTYPE html><html><head><title>Sign In</title></head></html>"))

-- stepper: mode (6 PAT / 7 OAuth, op << 3), then one answer per send:
-- status, flags (1 retry-after, 2 request id, 4 location, 8 last), three
-- slices, then a 2-byte length and the body (or, for the last, the rest)
local function answer(status, body, h)
  h = h or {}
  local flags = (h.retry_after and 1 or 0) + (h.request_id and 2 or 0) + (h.location and 4 or 0)
    + (h.last and 8 or 0)
  local s = u8(STATUS[status]) .. u8(flags) .. slice(h.retry_after or "") .. slice(h.request_id or "")
    .. slice(h.location or "")
  if h.last then return s .. body end
  return s .. u16(#body) .. body
end
local function failure(kind, message) -- 0xF8 + kind index: timeout tls connect too_large connection
  return u8(0xF8 + kind) .. slice(message or "")
end
local function stepper(oauth, op, ...)
  return u8((oauth and 7 or 6) + OP[op] * 8) .. table.concat({ ... })
end

local DISCOVERY = '{"issuer":"https://fuzz.example/oidc","token_endpoint":"https://fuzz.example/oidc/v1/token"}'
local TOKEN = '{"access_token":"eyJ0","token_type":"Bearer","expires_in":3600,"scope":"all-apis"}'
write(R, "pat-list", stepper(false, "list", answer(200, '{"webhooks":[' .. WEBHOOK .. "]}", { last = true })))
write(R, "pat-create-503", stepper(false, "create", answer(503, '{"error_code":"TEMPORARILY_UNAVAILABLE"}',
  { retry_after = "1", last = true })))
write(R, "pat-delete-drop", stepper(false, "delete", failure(4, "connection reset")))
write(R, "pat-test", stepper(false, "test", answer(200, '{"status_code":200,"body":"OK"}', { last = true })))
write(R, "pat-update", stepper(false, "update", answer(200, "{}", { request_id = "r", last = true })))
write(R, "pat-request", stepper(false, "request", answer(200, '{"x":[1,2,3]}', { last = true })))
write(R, "oauth-list", stepper(true, "list", answer(200, DISCOVERY), answer(200, TOKEN),
  answer(200, "{}", { last = true })))
write(R, "oauth-refresh", stepper(true, "create", answer(200, DISCOVERY), answer(200, TOKEN),
  answer(401, '{"error_code":"UNAUTHENTICATED"}'), answer(200, TOKEN),
  answer(200, '{"webhook":' .. WEBHOOK .. "}", { last = true })))
write(R, "oauth-no-discovery", stepper(true, "delete", answer(404, "not found"),
  answer(400, '{"error":"invalid_client","error_description":"bad secret"}', { last = true })))
write(R, "oauth-token-timeout", stepper(true, "test", answer(200, DISCOVERY), failure(0)))

------------------------------------------------------------------------------
-- fuzz_retry_after
------------------------------------------------------------------------------
for i, v in ipairs({ "0", "120", "  7 \t", "1.5", "99999999999", "-1", "abc", "",
  "Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
  "Thu, 01 Jan 2099 00:00:00 GMT", "1e3", "0x10" }) do
  write("fuzz_retry_after", "seed-" .. i, v)
end

------------------------------------------------------------------------------
-- fuzz_signature: secret slice, header slice, then the body
------------------------------------------------------------------------------
local function hmac(key, body)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb")); f:write(body); f:close()
  local p = assert(io.popen("openssl dgst -sha256 -r -hmac '" .. key .. "' " .. tmp))
  local out = p:read("*a"); p:close(); os.remove(tmp)
  return out:match("^(%x+)")
end
local DELIVERY = '{"event":"MODEL_VERSION_CREATED","webhook_id":"0123456789abcdef0123456789abcdef",'
  .. '"event_timestamp":1700000000000,"model_name":"churn","version":"1","tags":[],"text":null}'
local S = "fuzz_signature"
write(S, "valid", slice("shared-secret") .. slice(hmac("shared-secret", DELIVERY)) .. DELIVERY)
write(S, "valid-upper", slice("k") .. slice(" " .. hmac("k", DELIVERY):upper() .. "\t") .. DELIVERY)
write(S, "wrong", slice("k") .. slice(string.rep("0", 64)) .. DELIVERY)
write(S, "short", slice("k") .. slice("abc") .. '{"event":"COMMENT_CREATED"}')
write(S, "no-secret", slice("") .. slice("") .. "not json")
write(S, "array", slice("s") .. slice(string.rep("g", 64)) .. "[1,2,3]")

------------------------------------------------------------------------------
-- fuzz_query: mode byte (0 encode, 1 one pair, 2 client:request, 3 list/delete)
------------------------------------------------------------------------------
local Q = "fuzz_query"
write(Q, "encode", "\0" .. "model name & co/é+%?#=\r\n\0~")
write(Q, "pair-string", "\1" .. slice("model_name") .. "\1" .. "\0" .. slice("a b&c"))
write(Q, "pair-array", "\1" .. slice("events") .. "\0" .. "\5" .. "\3" .. "\0" .. slice("A") .. "\2"
  .. u16(7) .. "\1" .. "\4")
write(Q, "raw-get", "\2" .. "\8" .. slice("/api/2.0/mlflow/registry-webhooks/list") .. "\0" .. slice("x")
  .. "\2" .. slice("model_name") .. "\0" .. slice("m 1") .. slice("max_results") .. "\2" .. u16(10) .. "\0")
write(Q, "raw-bad-path", "\2" .. "\1" .. slice("/api/x y?#") .. "\0" .. "\0")
-- fields: a byte whose value mod 6 picks model_name, page_token, max_results,
-- events (with bit 64: real event names), id or an unknown one
write(Q, "list-events", "\3" .. "\0" .. "\3" .. "E" .. "\2" .. "\1" .. "\4" .. "\0" .. "\0" .. slice("a/b c")
  .. "\2" .. "\2" .. u16(25) .. "\0")
write(Q, "delete-id", "\3" .. "\1" .. "\1" .. "\4" .. "\0" .. slice("0123456789abcdef"))

------------------------------------------------------------------------------
-- fuzz_schema: selector byte (op index in the low bits, 8 normalise, 16 a
-- function value, 32 a boolean key), then JSON
------------------------------------------------------------------------------
local J = "fuzz_schema"
write(J, "create-http", "\0" .. '{"events":["MODEL_VERSION_CREATED","COMMENT_CREATED"],"model_name":"m",'
  .. '"description":"d","status":"TEST_MODE","http_url_spec":{"url":"https://h.example/x","secret":"s",'
  .. '"authorization":"Bearer x","enable_ssl_verification":false}}')
write(J, "create-job", "\0" .. '{"events":["REGISTERED_MODEL_CREATED"],"job_spec":{"job_id":"1",'
  .. '"access_token":"dapi","workspace_url":"https://w.example"}}')
write(J, "create-both", "\0" .. '{"events":["COMMENT_CREATED"],"http_url_spec":{"url":"u"},'
  .. '"job_spec":{"job_id":"1","access_token":"t"}}')
write(J, "create-registry-wide", "\0" .. '{"events":["REGISTERED_MODEL_CREATED"],"model_name":"m",'
  .. '"http_url_spec":{"url":"u"}}')
write(J, "list", "\1" .. '{"events":["MODEL_VERSION_TAG_SET"],"max_results":100,"model_name":"m",'
  .. '"page_token":"YWJj+/=="}')
write(J, "list-holes", "\11" .. '{"events":["COMMENT_CREATED",null,"MODEL_VERSION_CREATED"]}')
write(J, "update", "\2" .. '{"id":"abc","status":"DISABLED","events":["TRANSITION_REQUEST_CREATED"],'
  .. '"description":""}')
write(J, "delete", "\3" .. '{"id":"abc"}')
write(J, "test", "\4" .. '{"id":"abc","event":"MODEL_VERSION_TRANSITIONED_TO_ARCHIVED"}')
write(J, "numbers", "\1" .. '{"max_results":1e400,"events":[],"model_name":"x"}')

------------------------------------------------------------------------------
-- fuzz_config: the bytes are the file (the first byte also picks a profile)
------------------------------------------------------------------------------
local C = "fuzz_config"
write(C, "default", "[DEFAULT]\nhost = https://dbc-abcd0123-a1bc.cloud.databricks.com\n"
  .. "token = dapi0123456789abcdef#keeps-this-hash  # a comment\n")
write(C, "profiles", "; top comment\n[__settings__]\ndefault_profile = ci.sp\n\n[ci.sp]\n"
  .. "host: https://dbc-x.cloud.databricks.com/?o=1234567890123456#ws\nclient_id = 6a4f\n"
  .. "client_secret = 'dose s3cret'\nauth_type = oauth-m2m\ntimeout = 2.5\n")
write(C, "crlf-bom", "\239\187\191[DEFAULT]\r\nhost = \"https://[::1]:8443/path/\"\r\ntoken = t\r\n")
write(C, "errors", "[open\nkey\n= value\n[]\n")
write(C, "odd", "host = http://127.0.0.1:1\ntoken = a;b ;c\n[x] trailing ] text\nTOKEN = later\n"
  .. "deployment_name = dbc-abcd0123-a1bc\nretry_timeout = nope\n")
------------------------------------------------------------------------------
-- fuzz_json: the bytes are the JSON text
------------------------------------------------------------------------------
local D = "fuzz_json"
write(D, "mixed", '{"a":[1,2.5,-0,1e3,null,"x\\u00e9\\ud83d\\ude00"],"b":{"c":true,"d":false,"e":null}}')
write(D, "array-nulls", "[1,null,2,null]")
write(D, "dup-null", '{"a":1,"a":null}')
write(D, "big-int", "12345678901234567890")
write(D, "above-2-53", "9007199254740993")
write(D, "escapes", '"\\n\\t\\"\\\\\\/\\b\\f\\r"')
write(D, "page-5", '{"webhooks":[' .. string.rep('{"id":"0000000000000000000000005eed0001",'
  .. '"creation_timestamp":1700000001000,"last_updated_timestamp":1700000001000,'
  .. '"description":"benchmark webhook","events":["MODEL_VERSION_CREATED","TRANSITION_REQUEST_CREATED"],'
  .. '"model_name":"bench-model","status":"ACTIVE","http_url_spec":{"url":"http://127.0.0.1:9/__control/sink",'
  .. '"enable_ssl_verification":true}}', 5, ",") .. '],"next_page_token":"p2"}')
print("seeds written under fuzz/corpus/")
