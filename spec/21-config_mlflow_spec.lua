-- Specs for the settings of an MLflow client (api = "mlflow"): opts, then the
-- MLflow client's environment; never a .databrickscfg. The environment is a
-- fake table, so the real one never leaks in.

package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path

local config = require("databricks.webhooks.config")

local TOKEN, ENV_TOKEN, PASSWORD = "mlflowOPTSsecret", "mlflowENVsecret", "mlflowPASSsecret"

local function resolve(opts, env)
  opts.api = "mlflow"
  local s, err = config.resolve(opts, env or {})
  if err then
    for _, secret in ipairs({ TOKEN, ENV_TOKEN, PASSWORD }) do
      assert.is_nil(err.message:find(secret, 1, true), "secret leaked: " .. err.message)
    end
  end
  return s, err
end

describe("api = \"mlflow\" settings", function()
  it("take the host from MLFLOW_TRACKING_URI, keeping a path prefix", function()
    local s = assert(resolve({}, { MLFLOW_TRACKING_URI = "https://mlflow.example.com/ml/" }))
    assert.equals("https://mlflow.example.com/ml", s.host)
    assert.equals("mlflow", s.api)
    assert.equals("none", s.auth_type)
  end)

  it("let the host option win over MLFLOW_TRACKING_URI", function()
    local s = assert(resolve({ host = "https://a.example.com" }, { MLFLOW_TRACKING_URI = "https://b.example.com" }))
    assert.equals("https://a.example.com", s.host)
  end)

  for _, uri in ipairs({ "file:///tmp/mlruns", "sqlite:///mlflow.db", "databricks", "./mlruns",
    "databricks://profile" }) do
    it("refuse a tracking URI that is no server: " .. uri, function()
      local s, err = resolve({}, { MLFLOW_TRACKING_URI = uri })
      assert.is_nil(s)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
      assert.matches("MLFLOW_TRACKING_URI", err.message, 1, true)
    end)
  end

  it("need a host", function()
    local s, err = resolve({}, {})
    assert.is_nil(s)
    assert.matches("MLFLOW_TRACKING_URI", err.message, 1, true)
  end)

  it("allow no credentials at all, and never read a config file", function()
    local s = assert(resolve({ host = "https://m.example.com" },
      { DATABRICKS_CONFIG_FILE = "/nonexistent/never-read", DATABRICKS_TOKEN = "dapi-not-for-mlflow" }))
    assert.equals("none", s.auth_type)
    assert.is_nil(s.token)
  end)

  it("take a token or basic credentials from the environment; basic wins when both are set", function()
    local env = { MLFLOW_TRACKING_URI = "https://m.example.com", MLFLOW_TRACKING_TOKEN = ENV_TOKEN }
    local s = assert(resolve({}, env))
    assert.equals("pat", s.auth_type)
    assert.equals(ENV_TOKEN, s.token)
    assert.equals("token from MLFLOW_TRACKING_TOKEN", s.credential_source)
    env.MLFLOW_TRACKING_USERNAME, env.MLFLOW_TRACKING_PASSWORD = "alice", PASSWORD
    s = assert(resolve({}, env))
    assert.equals("basic", s.auth_type)
    assert.equals("alice", s.username)
    assert.equals(PASSWORD, s.password)
    assert.is_nil(s.token)
  end)

  it("let credential options win over the environment's as a whole", function()
    local s = assert(resolve({ token = TOKEN }, { MLFLOW_TRACKING_URI = "https://m.example.com",
      MLFLOW_TRACKING_USERNAME = "alice", MLFLOW_TRACKING_PASSWORD = PASSWORD }))
    assert.equals("pat", s.auth_type)
    assert.equals(TOKEN, s.token)
    assert.is_nil(s.password)
  end)

  it("refuse half of a basic pair", function()
    local s, err = resolve({}, { MLFLOW_TRACKING_URI = "https://m.example.com", MLFLOW_TRACKING_USERNAME = "a" })
    assert.is_nil(s)
    assert.matches("MLFLOW_TRACKING_PASSWORD", err.message, 1, true)
  end)

  it("read MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH", function()
    local base = "https://m.example.com"
    local s = assert(resolve({}, { MLFLOW_TRACKING_URI = base, MLFLOW_TRACKING_INSECURE_TLS = "true" }))
    assert.is_false(s.verify_tls)
    s = assert(resolve({}, { MLFLOW_TRACKING_URI = base, MLFLOW_TRACKING_INSECURE_TLS = "False" }))
    assert.is_true(s.verify_tls)
    s = assert(resolve({}, { MLFLOW_TRACKING_URI = base, MLFLOW_TRACKING_SERVER_CERT_PATH = "/etc/ca.pem" }))
    assert.equals("/etc/ca.pem", s.ca_file)
    local _, err = resolve({}, { MLFLOW_TRACKING_URI = base, MLFLOW_TRACKING_INSECURE_TLS = "yes" })
    assert.matches("MLFLOW_TRACKING_INSECURE_TLS", err.message, 1, true)
    _, err = resolve({}, { MLFLOW_TRACKING_URI = base, MLFLOW_TRACKING_INSECURE_TLS = "1",
      MLFLOW_TRACKING_SERVER_CERT_PATH = "/etc/ca.pem" })
    assert.matches("only one", err.message, 1, true)
    s = assert(resolve({ verify_tls = true }, { MLFLOW_TRACKING_URI = base, MLFLOW_TRACKING_INSECURE_TLS = "1" }))
    assert.is_true(s.verify_tls)
  end)

  it("still need allow_insecure_http for http:// to a host that is not loopback", function()
    local s, err = resolve({ host = "http://mlflow.internal:5000" }, {})
    assert.is_nil(s)
    assert.matches("allow_insecure_http", err.message, 1, true)
    assert(resolve({ host = "http://mlflow.internal:5000", allow_insecure_http = true }, {}))
    assert(resolve({ host = "http://127.0.0.1:5000" }, {}))
  end)

  it("name the Databricks settings it does not take", function()
    for _, k in ipairs({ "profile", "config_file", "client_id", "workspace_id", "auth_type" }) do
      local s, err = resolve({ host = "https://m.example.com", [k] = "x" }, {})
      assert.is_nil(s)
      assert.matches("^" .. k .. ": not an option of api = \"mlflow\"", err.message)
    end
    local _, err = resolve({ host = "https://m.example.com", hots = "x" }, {})
    assert.equals("hots: unknown option", err.message)
  end)

  it("check values as the Databricks client does", function()
    local _, err = resolve({ host = "https://m.example.com", timeout = -1 }, {})
    assert.matches("^timeout: ", err.message)
  end)

  it("refuse an unknown api", function()
    local s, err = config.resolve({ api = "sagemaker", host = "https://x", token = "t" }, {})
    assert.is_nil(s)
    assert.matches("^api: ", err.message)
  end)
end)
