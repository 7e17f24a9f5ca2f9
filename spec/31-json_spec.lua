-- The module's JSON decoder (csrc/json_decode.c), through client:request,
-- which hands back whatever object the server sent. fuzz/fuzz_json.c holds it
-- equal to cjson.decode + normalisation on random input; these pin the edges.
local webhooks = require("databricks.webhooks")
local cjson = require("cjson")

local function decode(body)
  local c = assert(webhooks.new{ host = "http://127.0.0.1:9", token = "t", retry_timeout = 0,
    transport = function() return { status = 200, headers = {}, body = body } end })
  return c:request("GET", "/api/2.0/x")
end

local function refused(body)
  local v, err = decode(body)
  assert.is_nil(v)
  assert.equals("BAD_RESPONSE", err.error_code)
end

describe("JSON decoding", function()
  it("decodes strings with every escape, surrogate pairs included", function()
    local out = assert(decode([[{"s":"q\"b\\s\/b\bf\fn\nr\rt\t","u":"\u00e9\u20ac\ud83d\ude00\u0000"}]]))
    assert.equals('q"b\\s/b\bf\fn\nr\rt\t', out.s)
    assert.equals("\195\169\226\130\172\240\159\152\128\0", out.u)
  end)

  it("refuses broken escapes and lone surrogates", function()
    refused([[{"s":"\x"}]])
    refused([[{"s":"\u12"}]])
    refused([[{"s":"\ud800"}]])
    refused([[{"s":"\udc00x"}]])
    refused([[{"s":"\ud800\u0041"}]])
    refused('{"s":"unterminated}')
  end)

  it("reads numbers as JSON writes them, integers where they are integral", function()
    local out = assert(decode('{"a":[0,-0,12,-7,1.5,1e3,2E-2,1700000001000,12345678901234567890,1e400]}'))
    local a = out.a
    assert.equals(0, a[1]); assert.equals(12, a[3]); assert.equals(-7, a[4]); assert.equals(1.5, a[5])
    assert.equals(1000, a[6]); assert.equals(0.02, a[7]); assert.equals(1700000001000, a[8])
    assert.equals(1.2345678901234567e19, a[9]); assert.equals(math.huge, a[10])
    if math.type then
      assert.equals("integer", math.type(a[6]))
      assert.equals("integer", math.type(a[8]))
      assert.equals("float", math.type(a[9]))
    end
  end)

  it("keeps every digit of integers past 2^53 where the Lua has 64-bit integers", function()
    local out = assert(decode('{"a":[9007199254740993,-9007199254740993,9223372036854775807,'
      .. '-9223372036854775808,9223372036854775808,-9223372036854775809]}'))
    local a = out.a
    if math.type then
      assert.equals("integer", math.type(a[1]))
      assert.equals("9007199254740993", tostring(a[1]))
      assert.equals("-9007199254740993", tostring(a[2]))
      assert.equals(math.maxinteger, a[3])
      assert.equals(math.mininteger, a[4])
      -- beyond 64 bits: a double, as cjson gives
      assert.equals("float", math.type(a[5]))
      assert.equals("float", math.type(a[6]))
    else
      assert.equals(9007199254740992, a[1]) -- a double: the nearest one
    end
    assert.equals(9.2233720368547758e18, a[5])
  end)

  it("refuses what is not JSON number syntax", function()
    for _, n in ipairs{ "01", "1.", ".5", "-", "+1", "0x10", "NaN", "Infinity", "1e", "1e+" } do
      refused('{"n":' .. n .. "}")
    end
  end)

  it("leaves nulls out: members absent, arrays closed up, a later null erasing an earlier key", function()
    local out = assert(decode('{"a":null,"b":[null,1,null,2,null],"c":1,"c":null,"d":2,"d":3}'))
    assert.same({ b = { 1, 2 }, d = 3 }, out)
  end)

  it("builds big arrays and objects whole, past the stack chunk", function()
    local items, keys = {}, {}
    for i = 1, 10000 do items[i] = tostring(i) end
    for i = 1, 300 do keys[i] = ('"k%d":%d'):format(i, i) end
    local out = assert(decode('{"a":[' .. table.concat(items, ",") .. '],"o":{' .. table.concat(keys, ",") .. "}}"))
    assert.equals(10000, #out.a)
    for i = 1, 10000 do assert.equals(i, out.a[i]) end
    for i = 1, 300 do assert.equals(i, out.o["k" .. i]) end
  end)

  it("takes nesting to 1000 levels and refuses deeper, without raising", function()
    local function nest(n) return '{"a":' .. ("["):rep(n - 1) .. ("]"):rep(n - 1) .. "}" end
    assert.is_table(assert(decode(nest(1000))))
    refused(nest(1001))
    refused('{"a":' .. ("["):rep(100000))
  end)

  it("refuses truncated documents, trailing text and bad literals", function()
    for _, body in ipairs{ "{", '{"a"', '{"a":', '{"a":1', '{"a":1,}', '{"a":[1,]}', "{} x", "{}{}",
      '{"a":tru}', '{"a":nul}', "{a:1}", "{'a':1}", '{"a" 1}', '{"a":1 "b":2}' } do
      refused(body)
    end
  end)

  it("agrees with cjson on a page the API could send", function()
    local body = '{"webhooks":[{"id":"x","events":["COMMENT_CREATED"],"status":"ACTIVE",'
      .. '"http_url_spec":{"url":"https://h/p?q=1","enable_ssl_verification":false},'
      .. '"description":"caf\\u00e9","creation_timestamp":1571440826026}],"next_page_token":"n"}'
    assert.same(cjson.decode(body), assert(decode(body)))
  end)

  it("parse_delivery decodes with the same rules", function()
    local p = assert(webhooks.parse_delivery('{"event":"COMMENT_CREATED","event_timestamp":1,"text":null}'))
    assert.same({ event = "COMMENT_CREATED", event_timestamp = 1 }, p)
    if math.type then assert.equals("integer", math.type(p.event_timestamp)) end
  end)
end)

describe("OAuth token answers", function()
  local function oauth_client(token_body)
    return assert(webhooks.new{ host = "http://127.0.0.1:9", client_id = "id", client_secret = "s",
      retry_timeout = 0, transport = function(req)
        if req.url:find("/oidc/v1/token", 1, true) then
          return { status = 200, headers = {}, body = token_body }
        end
        if req.url:find("well-known", 1, true) then
          return { status = 200, headers = {}, body = '{"token_endpoint":"http://127.0.0.1:9/oidc/v1/token"}' }
        end
        return { status = 200, headers = {}, body = '{"webhooks":[]}' }
      end })
  end

  it("refuses an access token with a NUL byte (it would be cut short in the header)", function()
    local _, err = oauth_client('{"access_token":"abc\\u0000def","expires_in":3600}'):list()
    assert.equals("BAD_RESPONSE", err.error_code)
    assert.matches("no usable access_token", err.message)
  end)

  it("uses a clean one", function()
    assert.same({ webhooks = {} }, assert(oauth_client('{"access_token":"abc","expires_in":3600}'):list()))
  end)
end)

describe("JSON encoding (request bodies)", function()
  local function sent(call)
    local body
    local c = assert(webhooks.new{ host = "http://127.0.0.1:9", token = "t", retry_timeout = 0,
      transport = function(req)
        body = req.body
        return { status = 200, headers = {}, body = '{"webhook":{"id":"x"}}' }
      end })
    call(c)
    return body
  end

  it("writes '/' as it is, not as \\/ (lua-cjson 2.1.0 escapes it)", function()
    local body = sent(function(c)
      assert(c:create{ events = { "MODEL_VERSION_CREATED" }, model_name = "a/b",
        http_url_spec = { url = "https://hooks.example.com/x/y?z=/" } })
    end)
    assert.is_nil(body:find("\\/", 1, true), body)
    assert.truthy(body:find('"url":"https://hooks.example.com/x/y?z=/"', 1, true), body)
    assert.truthy(body:find('"model_name":"a/b"', 1, true), body)
  end)

  it("keeps every other escape, backslashes before '/' included", function()
    local s = 'a\\/b\\\\/c"\n/\\'
    local body = sent(function(c) c:request("POST", "/api/2.0/x", { s = s }) end)
    assert.is_nil(body:find("[^\\]\\/"), body)
    assert.equals(s, cjson.decode(body).s)
    assert.equals('{"s":"a\\\\/b\\\\\\\\/c\\"\\n/\\\\"}', body)
  end)
end)
