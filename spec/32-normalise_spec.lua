-- Response normalisation, fed canned bodies through a Lua transport.
local webhooks = require("databricks.webhooks")

local function client_answering(body, status)
  return assert(webhooks.new{ host = "http://127.0.0.1:9", token = "t", retry_timeout = 0,
    transport = function() return { status = status or 200, headers = {}, body = body } end })
end

describe("normalisation", function()
  it("drops nulls everywhere and closes up arrays", function()
    local c = client_answering('{"webhooks":[{"id":"a","description":null,"events":[null,"COMMENT_CREATED",null],'
      .. '"http_url_spec":{"url":"https://x","secret":null},"creation_timestamp":1571440826026}],'
      .. '"next_page_token":null}')
    local page = assert(c:list())
    local wh = page.webhooks[1]
    assert.is_nil(wh.description)
    assert.same({ "COMMENT_CREATED" }, wh.events)
    assert.same({ url = "https://x" }, wh.http_url_spec)
    assert.is_nil(page.next_page_token)
    if math.type then assert.equals("integer", math.type(wh.creation_timestamp)) end
  end)

  it("turns timestamps into integers without a null in sight", function()
    local c = client_answering('{"webhook":{"id":"a","events":["COMMENT_CREATED"],'
      .. '"creation_timestamp":1571440826026,"last_updated_timestamp":1582768296651}}')
    local wh = assert(c:create{ events = { "COMMENT_CREATED" }, http_url_spec = { url = "https://x" } })
    assert.equals(1582768296651, wh.last_updated_timestamp)
    if math.type then
      assert.equals("integer", math.type(wh.creation_timestamp))
      assert.equals("integer", math.type(wh.last_updated_timestamp))
    end
  end)

  it("client:request converts every integral number", function()
    local c = client_answering('{"a":{"b":[1,2.5,3]},"n":null}')
    local out = assert(c:request("GET", "/api/2.0/x"))
    assert.is_nil(out.n)
    if math.type then
      assert.equals("integer", math.type(out.a.b[1]))
      assert.equals("float", math.type(out.a.b[2]))
    end
  end)

  it("accepts the older test shape and the status alias", function()
    local c = client_answering('{"webhook":{"status_code":200,"body":"OK"}}')
    assert.same({ status_code = 200, body = "OK" }, assert(c:test("a")))
    c = client_answering('{"status":202,"body":"ok"}')
    assert.same({ status_code = 202, body = "ok" }, assert(c:test("a")))
  end)

  it("returns at least the id when update answers {}", function()
    local c = client_answering("{}")
    assert.same({ id = "abc" }, assert(c:update{ id = "abc", description = "x" }))
  end)

  it("treats an error_code with a NUL byte inside as absent", function()
    local c = client_answering('{"error_code":"BAD\0CODE","message":"m"}', 404)
    local _, err = c:list()
    assert.equals("NOT_FOUND", err.error_code) -- what a 404 is called without a code
    assert.equals("m", err.message)
  end)

  it("treats a non-string error_code as absent", function()
    local c = client_answering('{"error_code":401,"message":"bad token"}', 401)
    local _, err = c:list()
    assert.equals("UNAUTHENTICATED", err.error_code)
    -- the server's message, then where the rejected credential came from
    assert.equals("bad token (pat credentials: token from the token option)", err.message)
  end)

  it("reads CODE: message text and HTML titles", function()
    local _, err = client_answering("RESOURCE_EXHAUSTED: slow down", 429):list()
    assert.equals("RESOURCE_EXHAUSTED", err.error_code)
    assert.equals("slow down", err.message)
    _, err = client_answering("<html><title>502 Bad Gateway</title></html>", 502):list()
    assert.equals("BAD_GATEWAY", err.error_code)
    assert.equals("502 Bad Gateway", err.message)
  end)
end)
