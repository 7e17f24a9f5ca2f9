-- Writes docs/settings.md from the one table of webhooks.new's settings
-- (options.SETTINGS in lua/databricks/webhooks/options.lua):
--
--   lua5.4 docs/settings.lua > docs/settings.md     (make settings-doc)
--
-- spec/86-docs_spec.lua checks that the page is what this writes.
package.path = "lua/?.lua;" .. package.path
local options = require("databricks.webhooks.options")

local function code(v) return "`" .. tostring(v) .. "`" end

local out = {
  "# Settings of `webhooks.new`",
  "",
  "Generated from `options.SETTINGS` (lua/databricks/webhooks/options.lua) by `make settings-doc`;",
  "do not edit by hand. An option given to `webhooks.new` wins, then the environment variable,",
  "then the profile key of one `.databrickscfg` profile (see [auth.md](auth.md)). Secrets are never",
  "printed: diagnostics show them as `***`. An open-source MLflow client (`api = \"mlflow\"`) takes",
  "the options marked MLflow and reads the MLflow client's variables instead",
  "(`MLFLOW_TRACKING_URI`, ...; see [mlflow.md](mlflow.md)).",
  "",
  "| option | default | environment | profile key | auth kind | MLflow | meaning |",
  "|---|---|---|---|---|---|---|",
}
for _, row in ipairs(options.SETTINGS) do
  local env = type(row.env) == "string" and { row.env } or row.env or {}
  local vars = {}
  for i, var in ipairs(env) do vars[i] = code(var) end
  local meaning = row.doc .. (row.shown == "masked" and " (secret)" or "")
  out[#out + 1] = ("| %s | %s | %s | %s | %s | %s | %s |"):format(code(row[1]),
    row.default ~= nil and code(row.default) or "", table.concat(vars, ", "), row.file and code(row.file) or "",
    row.auth or "", options.MLFLOW[row[1]] and "yes" or "", meaning)
end
io.write(table.concat(out, "\n"), "\n")
