-- Delivery signatures: HMAC-SHA256 of the raw body, lowercase hex (databricks-api.md §4).
local webhooks = require("databricks.webhooks")

local BODY = '{"event":"MODEL_VERSION_CREATED","webhook_id":"abc","event_timestamp":1589859029343}'
-- computed independently: printf '%s' "$BODY" | openssl dgst -sha256 -hmac my-secret
local SIG = "68d3c26d357dd4fe7c11317b4896f3431eff7230523d831344dc9b070205a904"

describe("verify_signature", function()
  it("accepts the documented signature, in either case and with stray spaces", function()
    assert.is_true(webhooks.verify_signature("my-secret", BODY, SIG))
    assert.is_true(webhooks.verify_signature("my-secret", BODY, SIG:upper()))
    assert.is_true(webhooks.verify_signature("my-secret", BODY, " " .. SIG .. " "))
    assert.equals(SIG, webhooks.sign("my-secret", BODY))
  end)

  it("refuses a tampered body, a wrong secret, a missing or malformed header", function()
    local cases = {
      { "my-secret", BODY .. " ", SIG, "mismatch" },
      { "other", BODY, SIG, "mismatch" },
      { "my-secret", BODY, nil, "missing" },
      { "my-secret", BODY, "", "missing" },
      { "my-secret", BODY, SIG:sub(2), "malformed" },
      { "my-secret", BODY, "sha256=" .. SIG, "malformed" },
      { "my-secret", BODY, SIG:sub(1, 63) .. "g", "malformed" },
      { "", BODY, SIG, "secret" },
    }
    for _, c in ipairs(cases) do
      local ok, why = webhooks.verify_signature(c[1], c[2], c[3])
      assert.is_false(ok)
      assert.matches(c[4], why)
    end
  end)

  it("works on binary bodies with NUL bytes", function()
    local body = "a\0b\255"
    assert.is_true(webhooks.verify_signature("k", body, webhooks.sign("k", body)))
  end)

  it("raises on wrong argument types", function()
    assert.has_error(function() webhooks.verify_signature(nil, BODY, SIG) end)
    assert.has_error(function() webhooks.verify_signature("s", {}, SIG) end)
    assert.has_error(function() webhooks.verify_signature("s", BODY, 42 and {}) end)
  end)
end)

describe("parse_delivery", function()
  it("returns the payload as a plain table with integer timestamps", function()
    local ev = assert(webhooks.parse_delivery(
      '{"event":"MODEL_VERSION_TAG_SET","webhook_id":"w","event_timestamp":1589859029343,"version":"8",'
      .. '"tags":[{"key":"k","value":"v"}],"extra":null,"text":"t"}'))
    assert.equals("MODEL_VERSION_TAG_SET", ev.event)
    assert.equals("8", ev.version)
    assert.equals("v", ev.tags[1].value)
    assert.is_nil(ev.extra)
    if math.type then assert.equals("integer", math.type(ev.event_timestamp)) end
  end)

  it("returns nil and an error for bodies that are not a delivery", function()
    for _, body in ipairs{ "not json", "[1,2]", "{}", '{"event":5}', "" } do
      local ev, err = webhooks.parse_delivery(body)
      assert.is_nil(ev)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    end
    assert.has_error(function() webhooks.parse_delivery(nil) end)
  end)
end)
