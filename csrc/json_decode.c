/*
 * json_decode.c - JSON text straight to Lua values, for everything the module
 * reads: response bodies, OAuth answers, webhook deliveries.
 *
 * The module first called cjson.decode and then walked the result to drop
 * nulls and turn integral floats into integers. Profiling a list page showed
 * most of that cost was avoidable: cjson grows every table from empty
 * (rehashing at each power of two), copies every string through a scratch
 * buffer, and leaves two fix-ups for a second walk. Here a container's items
 * wait on the Lua stack until its end (or until CHUNK of them) so the table
 * is created at its final size; strings without escapes are pushed straight
 * from the input; the API's field names and enum values (the caller's lists:
 * the decoder knows no API) come from a per-state table of interned strings
 * instead of being hashed again; nulls and integers
 * are settled as they are read. The differential harness fuzz/fuzz_json.c
 * holds the result equal to cjson.decode + that normalisation.
 *
 * What the text may be: RFC 8259 JSON, nesting at most MAX_DEPTH (cjson's
 * default too). Like cjson: raw control characters inside strings and
 * invalid UTF-8 pass through (NUL too, where cjson stops reading); lone
 * surrogates in \u escapes are refused.
 * Stricter than cjson: numbers must follow the JSON grammar (no hex, NaN,
 * Infinity, leading zeros or "1.").
 */
#include <locale.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH 1000
/* Items a container keeps on the stack before moving them into its table:
 * bounds the stack each level can use (Lua 5.1 and LuaJIT allow C functions
 * 8,000 slots in all), yet fits the objects and pages the API sends. */
#define CHUNK 128

/* ---- the per-state table of common strings -------------------------------- */

#define SLOTS 256 /* open addressing; a power of two well above the number of strings */
#define MAX_COMMON_LEN 48

typedef struct common_index {
    unsigned char slot[SLOTS]; /* 0 = empty, else 1 + the string's index in the table */
    const char *name[SLOTS];   /* by the same index: the C string, for comparing */
    unsigned char len[SLOTS];
} common_index;

static const char COMMON_KEY = 'c'; /* its address is the registry key */
static const common_index no_common;

static unsigned hash_name(const char *s, size_t n)
{
    return ((unsigned)n * 31u + (unsigned char)s[0] * 7u + (unsigned char)s[n - 1] * 3u +
            (unsigned char)s[n / 2]) &
           (SLOTS - 1);
}

static int find_common(const common_index *ix, const char *s, size_t n, unsigned h)
{
    for (; ix->slot[h]; h = (h + 1) & (SLOTS - 1))
        if (ix->len[ix->slot[h]] == n && memcmp(ix->name[ix->slot[h]], s, n) == 0)
            return 1;
    return 0;
}

static void add_common(lua_State *L, common_index *ix, int *count, const char *const *names)
{
    for (; *names; names++) {
        size_t n = strlen(*names);
        unsigned h = hash_name(*names, n);
        if (n == 0 || n > MAX_COMMON_LEN || *count + 1 >= SLOTS / 2 || find_common(ix, *names, n, h))
            continue; /* the table stays sparse, and each string is in it once */
        while (ix->slot[h])
            h = (h + 1) & (SLOTS - 1);
        ++*count;
        ix->slot[h] = (unsigned char)*count;
        ix->name[*count] = *names;
        ix->len[*count] = (unsigned char)n;
        lua_pushstring(L, *names);
        lua_rawseti(L, -2, *count);
    }
}

void dbw_json_decode_init(lua_State *L, const char *const *const *interned)
{
    int count = 0;
    common_index *ix = lua_newuserdata(L, sizeof *ix);
    memset(ix, 0, sizeof *ix);
    lua_newtable(L);
    for (; interned && *interned; interned++)
        add_common(L, ix, &count, *interned);
    dbw_set_box(L, -2);
    lua_pushlightuserdata(L, (void *)&COMMON_KEY);
    lua_insert(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

/* ---- the parser ------------------------------------------------------------ */

typedef struct parser {
    lua_State *L;
    const char *p, *end;
    size_t total;
    size_t values, max_values; /* decoded so far, and the cap */
    int too_many;
    int depth;
    int scratch; /* stack slot: nil, or a userdata of total + 1 bytes (escaped strings, long numbers) */
    int strings; /* stack slot: the common strings, by index */
    const common_index *ix;
} parser;

enum { PUSHED = 1, NULL_VALUE = 0, FAILED = -1 };

static int parse_value(parser *P);

/* Every value and key costs Lua heap (an empty table ~60 bytes from 3 bytes
 * of text): the count is capped, not just the body's length. */
static int count_value(parser *P)
{
    if (++P->values <= P->max_values)
        return 1;
    P->too_many = 1;
    return 0;
}

static void skip_space(parser *P)
{
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\n' || *P->p == '\r' || *P->p == '\t'))
        P->p++;
}

static char *scratch(parser *P)
{
    if (lua_isnil(P->L, P->scratch)) {
        lua_newuserdata(P->L, P->total + 1);
        lua_replace(P->L, P->scratch);
    }
    return lua_touserdata(P->L, P->scratch);
}

static void push_string(parser *P, const char *s, size_t n)
{
    if (n >= 2 && n <= MAX_COMMON_LEN) {
        unsigned h = hash_name(s, n);
        unsigned i;
        while ((i = P->ix->slot[h]) != 0) {
            if (P->ix->len[i] == n && memcmp(P->ix->name[i], s, n) == 0) {
                lua_rawgeti(P->L, P->strings, (int)i);
                return;
            }
            h = (h + 1) & (SLOTS - 1);
        }
    }
    lua_pushlstring(P->L, s, n);
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return 0;
    }
    *out = v;
    return 1;
}

static size_t utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string with escapes, from s (just past the quote) to its closing quote.
 * The decoded text is never longer than the escaped one. */
static int parse_escaped(parser *P, const char *s)
{
    char *out = scratch(P), *o = out;
    const char *p = s, *end = P->end;
    while (p < end && *p != '"') {
        unsigned cp, lo;
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (++p >= end)
            return FAILED;
        switch (*p++) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u':
            if (end - p < 4 || !hex4(p, &cp))
                return FAILED;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return FAILED; /* a low surrogate alone */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    return FAILED; /* a high surrogate alone */
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += utf8(o, cp);
            break;
        default:
            return FAILED;
        }
    }
    if (p >= end)
        return FAILED;
    P->p = p + 1;
    lua_pushlstring(P->L, out, (size_t)(o - out));
    return PUSHED;
}

static int parse_string(parser *P)
{
    const char *s = P->p + 1;
    const char *q = memchr(s, '"', (size_t)(P->end - s));
    if (q == NULL)
        return FAILED;
    if (memchr(s, '\\', (size_t)(q - s)) != NULL)
        return parse_escaped(P, s);
    push_string(P, s, (size_t)(q - s));
    P->p = q + 1;
    return PUSHED;
}

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A number the integer fast path does not cover, by strtod on a terminated copy. */
static double to_double(parser *P, const char *s, size_t n)
{
    char small[64], *buf = n < sizeof small ? small : scratch(P);
    char point = localeconv()->decimal_point[0];
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (point != '.') {
        char *dot = memchr(buf, '.', n);
        if (dot)
            *dot = point;
    }
    return strtod(buf, NULL);
}

/* Integers are exact wherever the Lua has them: on 5.3+ every integer that
 * fits 64 bits becomes a Lua integer (ids and timestamps beyond 2^53 keep
 * their last digit); on 5.1/5.2 and beyond 64 bits, a double as cjson gives. */
static int parse_number(parser *P)
{
    const char *s = P->p, *p = s, *end = P->end;
    int neg = 0, integral = 1, exact = 1;
    unsigned long long v = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!is_digit(p, end))
        return FAILED;
    if (*p == '0') {
        p++;
    } else {
        while (is_digit(p, end)) {
            unsigned d = (unsigned)(*p - '0');
            if (v > (ULLONG_MAX - d) / 10)
                exact = 0;
            else
                v = v * 10 + d;
            p++;
        }
    }
    if (p < end && *p == '.') {
        integral = 0;
        if (!is_digit(++p, end))
            return FAILED;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integral = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return FAILED;
        while (is_digit(p, end))
            p++;
    }
    P->p = p;
    if (integral && exact) {
#if LUA_VERSION_NUM >= 503
        if (!neg && v <= (unsigned long long)LLONG_MAX) {
            lua_pushinteger(P->L, (lua_Integer)v);
            return PUSHED;
        }
        if (neg && v <= (unsigned long long)LLONG_MAX + 1u) {
            lua_pushinteger(P->L,
                            v > (unsigned long long)LLONG_MAX ? (lua_Integer)LLONG_MIN : -(lua_Integer)v);
            return PUSHED;
        }
#endif
        if (v <= (unsigned long long)DBW_EXACT_INT_MAX) { /* the double is exact */
            dbw_pushnumber(P->L, neg ? -(double)v : (double)v);
            return PUSHED;
        }
    }
    dbw_pushnumber(P->L, to_double(P, s, (size_t)(p - s)));
    return PUSHED;
}

static int literal(parser *P, const char *word, size_t n)
{
    if ((size_t)(P->end - P->p) < n || memcmp(P->p, word, n) != 0)
        return 0;
    P->p += n;
    return 1;
}

/* The items of a container wait on the stack above base; this moves them into
 * its table, created (at base + 1) by the first flush. */
static void flush_object(lua_State *L, int base, int *table, int npairs, int last)
{
    int first, i;
    if (!*table) {
        /* one slot to spare: shaping an answer may add a key (MLflow's id) */
        lua_createtable(L, 0, last ? npairs + 1 : 2 * npairs);
        lua_insert(L, base + 1);
        *table = 1;
    }
    first = base + 2;
    for (i = 0; i < npairs; i++) {
        /* in order, so that of two equal keys the last one wins, as in cjson */
        lua_pushvalue(L, first + 2 * i);
        lua_pushvalue(L, first + 2 * i + 1);
        lua_rawset(L, base + 1);
    }
    lua_settop(L, base + 1);
}

static void flush_array(lua_State *L, int base, int *table, int n, int done, int last)
{
    int i;
    if (!*table) {
        lua_createtable(L, last ? n : 2 * n, 0);
        lua_insert(L, base + 1);
        *table = 1;
    }
    for (i = n; i > 0; i--)
        lua_rawseti(L, base + 1, done + i); /* pops the top item: the last one first */
}

/* Between items: a comma (then more) or the closing bracket. 1 = more, 0 = end. */
static int next_item(parser *P, char close)
{
    skip_space(P);
    if (P->p < P->end && *P->p == ',') {
        P->p++;
        skip_space(P);
        return 1;
    }
    if (P->p < P->end && *P->p == close) {
        P->p++;
        return 0;
    }
    return FAILED;
}

/* Steps over the opening bracket; an empty container is pushed at once (1). */
static int empty_container(parser *P, char close)
{
    P->p++;
    skip_space(P);
    if (P->p < P->end && *P->p == close) {
        P->p++;
        lua_createtable(P->L, 0, 0);
        return 1;
    }
    return 0;
}

static int parse_object(parser *P)
{
    lua_State *L = P->L;
    int base = lua_gettop(L), table = 0, npairs = 0, more;
    if (empty_container(P, '}'))
        return PUSHED;
    do {
        if (P->p >= P->end || *P->p != '"' || !count_value(P) || parse_string(P) != PUSHED)
            return FAILED;
        skip_space(P);
        if (P->p >= P->end || *P->p != ':')
            return FAILED;
        P->p++;
        skip_space(P);
        switch (parse_value(P)) {
        case FAILED:
            return FAILED;
        case NULL_VALUE:
            lua_pushnil(L); /* assigned like any value: a null after an equal key erases it */
            break;
        }
        if (++npairs == CHUNK / 2) {
            flush_object(L, base, &table, npairs, 0);
            npairs = 0;
        }
        if ((more = next_item(P, '}')) == FAILED)
            return FAILED;
    } while (more);
    flush_object(L, base, &table, npairs, 1);
    return PUSHED;
}

static int parse_array(parser *P)
{
    lua_State *L = P->L;
    int base = lua_gettop(L), table = 0, n = 0, done = 0, more;
    if (empty_container(P, ']'))
        return PUSHED;
    do {
        switch (parse_value(P)) {
        case FAILED:
            return FAILED;
        case PUSHED:
            n++; /* a null is left out: the elements after it close up */
            break;
        }
        if (n == CHUNK) {
            flush_array(L, base, &table, n, done, 0);
            done += n;
            n = 0;
        }
        if ((more = next_item(P, ']')) == FAILED)
            return FAILED;
    } while (more);
    flush_array(L, base, &table, n, done, 1);
    return PUSHED;
}

static int parse_value(parser *P)
{
    int rc;
    if (P->p >= P->end || !count_value(P))
        return FAILED;
    switch (*P->p) {
    case '"':
        return parse_string(P);
    case '{':
    case '[':
        /* the deepest a container can use: its items, a key, a value and the
         * table; lua_checkstack fails (it does not raise) past Lua's limit */
        if (P->depth >= MAX_DEPTH || !lua_checkstack(P->L, CHUNK + 8))
            return FAILED;
        P->depth++;
        rc = *P->p == '{' ? parse_object(P) : parse_array(P);
        P->depth--;
        return rc;
    case 't':
        if (!literal(P, "true", 4))
            return FAILED;
        lua_pushboolean(P->L, 1);
        return PUSHED;
    case 'f':
        if (!literal(P, "false", 5))
            return FAILED;
        lua_pushboolean(P->L, 0);
        return PUSHED;
    case 'n':
        return literal(P, "null", 4) ? NULL_VALUE : FAILED;
    default:
        return parse_number(P);
    }
}

int dbw_json_decode_max(lua_State *L, const char *s, size_t n, size_t max_values)
{
    parser P;
    int base = lua_gettop(L), rc;
    if (!lua_checkstack(L, CHUNK + 8))
        return DBW_JSON_BAD;
    P.L = L;
    P.values = 0;
    P.max_values = max_values;
    P.too_many = 0;
    P.p = s;
    P.end = s + n;
    P.total = n;
    P.depth = 0;
    lua_pushnil(L);
    P.scratch = base + 1;
    lua_pushlightuserdata(L, (void *)&COMMON_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    P.ix = lua_touserdata(L, -1);
    if (P.ix == NULL) { /* not set up in this state: decode without the common strings */
        P.ix = &no_common;
    } else {
        dbw_get_box(L, -1);
        lua_replace(L, -2);
    }
    P.strings = base + 2;
    skip_space(&P);
    rc = parse_value(&P);
    skip_space(&P);
    if (rc == FAILED || P.p != P.end) {
        lua_settop(L, base); /* what was built is garbage now */
        return P.too_many ? DBW_JSON_TOO_MANY : DBW_JSON_BAD;
    }
    if (rc == NULL_VALUE)
        lua_pushnil(L);
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
    return DBW_JSON_OK;
}

int dbw_json_decode(lua_State *L, const char *s, size_t n)
{
    return dbw_json_decode_max(L, s, n, DBW_JSON_MAX_VALUES) == DBW_JSON_OK;
}
