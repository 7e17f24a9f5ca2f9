-- HMAC-SHA256 through libcrypto via the LuaJIT FFI. nginx itself links
-- libcrypto, so its symbols are normally in the process already (ffi.C); a
-- separate libcrypto is the fallback. (ngx.hmac_sha1 is SHA-1: not usable.)
local ffi = require("ffi")

ffi.cdef([[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md,
                    unsigned int *md_len);
]])

local function find_lib()
  if pcall(function() return ffi.C.HMAC end) then return ffi.C end
  for _, name in ipairs({ "crypto", "libcrypto.so.3", "libcrypto.so.1.1" }) do
    local ok, lib = pcall(ffi.load, name)
    if ok then return lib end
  end
  error("workspace: libcrypto not found for HMAC-SHA256")
end

local lib
local md = ffi.new("unsigned char[32]")
local md_len = ffi.new("unsigned int[1]")

--- Lower-case hex HMAC-SHA256 of `data` keyed with `key` (the raw 32 bytes with `raw`).
return function(key, data, raw)
  lib = lib or find_lib()
  lib.HMAC(lib.EVP_sha256(), key, #key, data, #data, md, md_len)
  if raw then return ffi.string(md, md_len[0]) end
  return (ffi.string(md, md_len[0]):gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end
