--- "Did you mean" for a misspelt name: the candidate nearest to it by edit
-- distance, when near enough to be a typo. Used for CLI options and
-- commands, and for profile names.
-- @module databricks.webhooks.suggest
local M = {}

-- Levenshtein distance, case-insensitive (both strings are short names).
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- " (did you mean 'X'?)" for the candidate nearest to `word`, when near
-- enough to be a typo (a third of its letters, at least 2), else "".
-- @tparam string word what was given
-- @tparam {string,...} candidates the names that exist
-- @tparam[opt] string prefix written before the suggestion (e.g. "--")
function M.did_you_mean(word, candidates, prefix)
  local best, best_d
  if #word > 256 then return "" end -- a name, not a document: keep the cost bounded
  for _, c in ipairs(candidates) do
    local d = distance(word, c)
    if best_d == nil or d < best_d then best, best_d = c, d end
  end
  if best and best_d <= math.max(2, math.floor(#best / 3)) then
    return " (did you mean '" .. (prefix or "") .. best .. "'?)"
  end
  return ""
end

return M
