--- The `.databrickscfg` reader: the INI dialect the SDKs read, the file's
-- location, and which profile of it applies.
--
-- @module databricks.webhooks.profile

local type, error, tostring, next, pairs = type, error, tostring, next, pairs
local io_open = io.open
local table_concat, table_sort = table.concat, table.sort
local trim = require("databricks.webhooks.host").trim
local suggest = require("databricks.webhooks.suggest")

local M = {}

-- The section name the SDKs reserve for settings such as `default_profile`.
local SETTINGS_SECTION = "__settings__"

-- Go `hasSurroundedQuote` (gopkg.in/ini.v1): the value is wrapped in one kind
-- of quote that appears nowhere else in it.
local function unquote(v)
  local n = #v
  if n >= 2 then
    local q = v:sub(1, 1)
    if (q == '"' or q == "'") and v:sub(n, n) == q and not v:sub(2, n - 1):find(q, 1, true) then
      return v:sub(2, n - 1)
    end
  end
  return v
end

--- Parse the text of a `.databrickscfg` file.
--
-- The format is the INI dialect the SDKs read (Go: gopkg.in/ini.v1 with
-- `SpaceBeforeInlineComment`; Python: configparser):
--
-- * `[name]` starts a section; the name is everything up to the last `]`,
--   kept verbatim (dots and spaces allowed); repeated sections are merged;
-- * `key = value` or `key: value` (the first `=` or `:` splits); keys are
--   trimmed and lower-cased (configparser), values trimmed;
-- * blank lines and lines starting with `#` or `;` are ignored;
-- * an inline comment starts only at a `#` or `;` preceded by whitespace, so
--   `token = abc#def` keeps its `#` ("Passwords may contain '#'", go#594);
-- * a value wrapped in matching `"` or `'` is unwrapped (Go);
-- * lines before the first section belong to `DEFAULT`; later duplicate keys
--   win; a UTF-8 byte order mark and CRLF line ends are accepted.
--
-- Continuation lines and `"""` multi-line values are not supported. Sections
-- with no keys are present as empty tables.
-- @tparam string text
-- @treturn[1] table `{ [section] = { [key] = value } }`
-- @treturn[2] nil
-- @treturn[2] string `"line N: <what is wrong>"`; never the line's content,
--   which may hold a secret
function M.parse(text)
  if type(text) ~= "string" then
    error("bad argument #1 to 'parse_file' (string expected, got " .. type(text) .. ")", 2)
  end
  if text:sub(1, 3) == "\239\187\191" then
    text = text:sub(4)
  end
  local sections = {}
  local current = "DEFAULT"
  local lineno = 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local line = trim(raw)
    local first = line:sub(1, 1)
    -- Blank lines and full-line comments carry nothing.
    local ignored = line == "" or first == "#" or first == ";"
    if first == "[" then
      -- Go reads the name up to the last "]" and ignores what follows it.
      local close = line:reverse():find("]", 1, true) -- the last "]" (".*()%]" is quadratic)
      if close then close = #line - close + 1 end
      if not close then
        return nil, "line " .. lineno .. ": unclosed section header"
      end
      local name = line:sub(2, close - 1)
      if name == "" then
        return nil, "line " .. lineno .. ": empty section name"
      end
      current = name
      sections[name] = sections[name] or {}
    elseif not ignored then
      local at = line:find("[=:]")
      if not at then
        return nil, "line " .. lineno .. ": expected 'key = value', 'key: value' or '[section]'"
      end
      local key = trim(line:sub(1, at - 1)):lower()
      if key == "" then
        return nil, "line " .. lineno .. ": missing key name"
      end
      local value = trim(line:sub(at + 1))
      local comment = value:find("%s[#;]")
      if comment then
        value = trim(value:sub(1, comment - 1))
      end
      local section = sections[current]
      if not section then
        section = {}
        sections[current] = section
      end
      section[key] = unquote(value)
    end
  end
  return sections
end

-- `~` and `~/...` become the home directory (Go `KnownConfigLoader`, Python
-- `expanduser`). `~user` is left alone. Returns nil when HOME is unknown.
function M.expand_home(path, getenv)
  if path == "~" or path:find("^~[/\\]") then
    local home = getenv("HOME")
    if home == nil or home == "" then
      home = getenv("USERPROFILE") -- Windows, as Go's os.UserHomeDir
    end
    if home == nil or home == "" then
      return nil
    end
    return home .. path:sub(2)
  end
  return path
end

local ENOENT = 2 -- the same value on Linux, the BSDs, macOS and Windows

-- Returns text, or nil and a reason, or nil, nil, true when the file does not
-- exist. A directory opens fine on POSIX and fails on read, hence both checks.
function M.read(path)
  local f, msg, code = io_open(path, "rb")
  if not f then
    if code == ENOENT or (code == nil and tostring(msg):find("No such file", 1, true)) then
      return nil, nil, true
    end
    -- io.open says "<path>: <reason>"; the caller names the path itself.
    msg = tostring(msg)
    if msg:sub(1, #path + 2) == path .. ": " then
      msg = msg:sub(#path + 3)
    end
    return nil, msg
  end
  local text, rmsg = f:read("*a")
  f:close()
  if not text then
    return nil, tostring(rmsg)
  end
  return text
end

-- The profiles of a file, sorted: the sections with keys, but __settings__.
local function profile_names(sections)
  local names = {}
  for name, keys in pairs(sections) do
    if name ~= SETTINGS_SECTION and next(keys) ~= nil then names[#names + 1] = name end
  end
  table_sort(names)
  return names
end

--- Which profile applies (Python `_known_file_config_loader`, Go
-- `resolveProfile`): the named one, else `[__settings__] default_profile`,
-- else DEFAULT as a fallback. `__settings__` is reserved, not a profile; a
-- section with no keys counts as absent (Go: `len(profileValues.Keys()) ==
-- 0`). DEFAULT's keys are never merged into another profile (Python reads
-- `_sections`: "In Go SDK, we skip merging the profile with DEFAULT").
-- @tparam table sections what `parse` returned
-- @tparam[opt] string named the profile asked for
-- @treturn[1] string the profile's name
-- @treturn[1] table|nil its keys; nil for a missing fallback DEFAULT (nothing is read)
-- @treturn[2] nil
-- @treturn[2] string "has no X profile configured", naming the profiles that exist
function M.choose(sections, named)
  local profile, fallback = named, false
  if not profile then
    local st = sections[SETTINGS_SECTION]
    local dp = st and st.default_profile and trim(st.default_profile) or ""
    if dp ~= "" then
      profile = dp
    else
      profile, fallback = "DEFAULT", true
    end
  end
  local section = profile ~= SETTINGS_SECTION and sections[profile] or nil
  if section ~= nil and next(section) ~= nil then return profile, section end
  if fallback then return profile, nil end
  local names = profile_names(sections)
  local listing = #names > 0 and "its profiles: " .. table_concat(names, ", ") or "it has no profiles"
  -- " (did you mean 'X'?)" becomes " (did you mean 'X'?; its profiles: ...)"
  local hint = suggest.did_you_mean(profile, names)
  return nil, "has no " .. profile .. " profile configured"
    .. (hint ~= "" and hint:sub(1, -2) .. "; " or " (") .. listing .. ")"
end

return M
