-- Open-source MLflow deliveries: `X-MLflow-Signature: v1,<base64 HMAC-SHA256>`
-- over "id.timestamp.body", freshness, and the envelope parse_delivery reads.
local webhooks = require("databricks.webhooks")

local SECRET = "whsec-mlflow-1"
local ID = "5d3c1a0e-8f4b-4c2a-9e1d-2b7f6a9c0e11"
local TS = "1765073678"
-- the bytes MLflow sends (json.dumps: ", " and ": " separators)
local BODY = '{"entity": "model_version", "action": "created", "timestamp": '
  .. '"2026-12-07T02:14:38.066678+00:00", "data": {"name": "m", "version": "1", "source": '
  .. '"models:/123", "run_id": null, "tags": {}, "description": null}}'
-- computed independently:
--   printf '%s' "$ID.$TS.$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
local SIG = "v1,49GTRbTJd9SImq/dx5/f7sU7lZH0kawyeXxDXNB4FS0="
local NOW = { now = tonumber(TS) }

local function verify(secret, body, id, ts, sig, opts)
  return webhooks.verify_mlflow_signature(secret, body, id, ts, sig, opts)
end

-- The signature by the openssl command line, for bodies made in the spec.
local function openssl_sign(secret, msg)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(msg)
  f:close()
  local p = assert(io.popen("openssl dgst -sha256 -hmac '" .. secret .. "' -binary < " .. path
    .. " | base64"))
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return "v1," .. (out:gsub("%s+$", ""))
end

describe("verify_mlflow_signature", function()
  it("accepts the vector computed with openssl, and sign_mlflow gives it", function()
    assert.is_true(verify(SECRET, BODY, ID, TS, SIG, NOW))
    assert.is_true(verify(SECRET, BODY, ID, tonumber(TS), SIG, NOW)) -- a number timestamp
    assert.equals(SIG, webhooks.sign_mlflow(SECRET, ID, TS, BODY))
    assert.equals(SIG, webhooks.sign_mlflow(SECRET, ID, tonumber(TS), BODY))
  end)

  it("agrees with openssl on binary bodies, long secrets and other ids", function()
    local body = "a\0b\255{\"x\": 1}"
    local secret = string.rep("k", 100) -- longer than a SHA-256 block: hashed first
    local sig = openssl_sign(secret, "id-2." .. TS .. "." .. body)
    assert.equals(sig, webhooks.sign_mlflow(secret, "id-2", TS, body))
    assert.is_true(verify(secret, body, "id-2", TS, sig, NOW))
  end)

  it("rotation: any secret of an array passes; empty ones are never used", function()
    assert.is_true(verify({ "new-secret", SECRET }, BODY, ID, TS, SIG, NOW))
    assert.is_true(verify({ SECRET, "old-secret" }, BODY, ID, TS, SIG, NOW))
    assert.is_true(verify({ "", SECRET }, BODY, ID, TS, SIG, NOW))
    local ok, why = verify({ "new-secret", "old-secret" }, BODY, ID, TS, SIG, NOW)
    assert.is_false(ok)
    assert.equals("signature mismatch", why)
  end)

  it("refuses empty secrets and missing or malformed headers with a reason", function()
    local cases = {
      { "", BODY, ID, TS, SIG, "secret is empty" },
      { {}, BODY, ID, TS, SIG, "secret is empty" },
      { { "", "" }, BODY, ID, TS, SIG, "secret is empty" },
      { SECRET, BODY, ID, TS, nil, "missing X%-MLflow%-Signature" },
      { SECRET, BODY, ID, TS, "", "missing X%-MLflow%-Signature" },
      { SECRET, BODY, nil, TS, SIG, "missing X%-MLflow%-Delivery%-Id" },
      { SECRET, BODY, "", TS, SIG, "missing X%-MLflow%-Delivery%-Id" },
      { SECRET, BODY, ID, nil, SIG, "missing X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, "", SIG, "missing X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, TS .. ".5", SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, "-" .. TS, SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, " " .. TS, SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, "0x69358a0e", SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, "1e9", SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, string.rep("9", 16), SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, 1.5, SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, -1, SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, 0 / 0, SIG, "malformed X%-MLflow%-Timestamp" },
      { SECRET, BODY, ID, TS, SIG:sub(4), "malformed signature" },
      { SECRET, BODY, ID, TS, "v2," .. SIG:sub(4), "malformed signature" },
      { SECRET, BODY, ID, TS, "V1," .. SIG:sub(4), "malformed signature" },
      { SECRET, BODY, ID, TS, "v1," .. SIG:sub(4):gsub("=$", ""), "mismatch" }, -- no padding
      { SECRET, BODY, ID, TS, SIG .. " ", "mismatch" },
      { SECRET, BODY, ID, TS, SIG .. "," .. SIG:sub(4), "mismatch" },
      { SECRET, BODY, ID, TS, "v1,", "mismatch" },
      { SECRET, BODY, ID, TS, SIG:lower(), "mismatch" }, -- base64 is case-sensitive
    }
    for i, c in ipairs(cases) do
      local ok, why = verify(c[1], c[2], c[3], c[4], c[5], NOW)
      assert.is_false(ok, "case " .. i)
      assert.matches(c[6], why, 1, false, "case " .. i)
    end
  end)

  it("refuses a change to the body, the id or the timestamp (all are signed)", function()
    local cases = {
      { BODY .. " ", ID, TS },
      { BODY, ID:upper(), TS },
      { BODY, ID, tostring(tonumber(TS) + 1) },
      { BODY, ID, "0" .. TS }, -- the same number, other bytes
      { ID .. "." .. TS .. "." .. BODY, "", "" }, -- the whole message as the body
    }
    for i, c in ipairs(cases) do
      local ok, why = verify(SECRET, c[1], c[2] ~= "" and c[2] or "x", c[3] ~= "" and c[3] or TS, SIG,
        { now = tonumber(TS) + 1 })
      assert.is_false(ok, "case " .. i)
      assert.equals("signature mismatch", why, "case " .. i)
    end
    assert.is_false((verify("other", BODY, ID, TS, SIG, NOW)))
  end)

  it("freshness: -max_skew <= now - timestamp <= max_age, at the edges", function()
    local ts = tonumber(TS)
    local function at(now, opts)
      opts = opts or {}
      opts.now = now
      return verify(SECRET, BODY, ID, TS, SIG, opts)
    end
    assert.is_true(at(ts + 300)) -- default max_age 300
    local ok, why = at(ts + 301)
    assert.is_false(ok)
    assert.equals("delivery too old (301 s, max_age 300 s)", why)
    assert.is_true(at(ts - 30)) -- default max_skew 30
    ok, why = at(ts - 31)
    assert.is_false(ok)
    assert.equals("delivery timestamped 31 s in the future (max_skew 30 s)", why)
    assert.is_true(at(ts + 60, { max_age = 60 }))
    assert.is_false((at(ts + 61, { max_age = 60 })))
    assert.is_true(at(ts, { max_skew = 0, max_age = 0 }))
    assert.is_false((at(ts - 1, { max_skew = 0 })))
    assert.is_false((at(ts + 1, { max_age = 0 })))
    -- without opts.now: the clock; this old vector is stale
    ok, why = verify(SECRET, BODY, ID, TS, SIG)
    assert.is_false(ok)
    assert.matches("^delivery too old", why)
    local now = tostring(os.time())
    assert.is_true(verify(SECRET, BODY, ID, now, webhooks.sign_mlflow(SECRET, ID, now, BODY)))
  end)

  it("checks the signature before freshness: a forged stale delivery is a mismatch", function()
    local ok, why = verify("other", BODY, ID, TS, SIG, { now = tonumber(TS) + 10000 })
    assert.is_false(ok)
    assert.equals("signature mismatch", why)
  end)

  it("never puts a secret in a reason", function()
    local secrets = { "s3cr3t-A", "s3cr3t-B" }
    for _, sig in ipairs({ SIG, "x", "v1,AAAA", nil }) do
      local ok, why = verify(secrets, BODY, ID, TS, sig, NOW)
      assert.is_false(ok)
      assert.is_nil(why:find("s3cr3t", 1, true))
    end
  end)

  it("raises on wrong argument types", function()
    local bad = {
      { nil, BODY, ID, TS, SIG, nil, "#1" },
      { 42, BODY, ID, TS, SIG, nil, "#1" },
      { { SECRET, 42 }, BODY, ID, TS, SIG, nil, "#1" },
      { SECRET, nil, ID, TS, SIG, nil, "#2" },
      { SECRET, {}, ID, TS, SIG, nil, "#2" },
      { SECRET, BODY, 42, TS, SIG, nil, "#3" },
      { SECRET, BODY, ID, {}, SIG, nil, "#4" },
      { SECRET, BODY, ID, true, SIG, nil, "#4" },
      { SECRET, BODY, ID, TS, 42, nil, "#5" },
      { SECRET, BODY, ID, TS, SIG, "opts", "#6" },
      { SECRET, BODY, ID, TS, SIG, { max_age = "300" }, "max_age" },
      { SECRET, BODY, ID, TS, SIG, { max_age = -1 }, "max_age" },
      { SECRET, BODY, ID, TS, SIG, { max_skew = 0 / 0 }, "max_skew" },
      { SECRET, BODY, ID, TS, SIG, { now = math.huge }, "now" },
    }
    for i, c in ipairs(bad) do
      local ok, err = pcall(verify, c[1], c[2], c[3], c[4], c[5], c[6])
      assert.is_false(ok, "case " .. i)
      assert.matches("verify_mlflow_signature", err, 1, true, "case " .. i)
      assert.matches(c[7], err, 1, true, "case " .. i)
    end
    assert.has_error(function() webhooks.sign_mlflow(SECRET, ID, "12a", BODY) end)
    assert.has_error(function() webhooks.sign_mlflow(nil, ID, TS, BODY) end)
  end)
end)

describe("parse_delivery of both families", function()
  it("reads MLflow's envelope and names its event entity.action", function()
    local ev = assert(webhooks.parse_delivery(BODY))
    assert.equals("model_version", ev.entity)
    assert.equals("created", ev.action)
    assert.equals("model_version.created", ev.event)
    assert.equals("2026-12-07T02:14:38.066678+00:00", ev.timestamp)
    assert.equals("1", ev.data.version)
    assert.is_nil(ev.data.run_id) -- null is absent, as elsewhere
    assert.same({}, ev.data.tags)
    local alias = assert(webhooks.parse_delivery('{"entity":"prompt_alias","action":"deleted",'
      .. '"timestamp":"2026-12-07T02:14:38+00:00","data":{"name":"p","alias":"prod"},"workspace":"w"}'))
    assert.equals("prompt_alias.deleted", alias.event)
    assert.equals("w", alias.workspace)
  end)

  it("keeps Databricks' flat payload as it is, even beside entity and action", function()
    local ev = assert(webhooks.parse_delivery('{"event":"MODEL_VERSION_CREATED","webhook_id":"w",'
      .. '"event_timestamp":1589859029343,"model_name":"m","version":"1"}'))
    assert.equals("MODEL_VERSION_CREATED", ev.event)
    assert.is_nil(ev.entity)
    local both = assert(webhooks.parse_delivery('{"event":"X","entity":"e","action":"a"}'))
    assert.equals("X", both.event)
  end)

  it("refuses a body that is neither family's", function()
    for _, body in ipairs{ "{}", '{"entity":"model_version"}', '{"action":"created"}',
      '{"entity":"model_version","action":5}', '{"entity":"","action":"created"}',
      '{"entity":"model_version","action":""}', '{"event":5,"entity":1,"action":"a"}' } do
      local ev, err = webhooks.parse_delivery(body)
      assert.is_nil(ev, body)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("no event name", err.message)
    end
  end)
end)
