--- One valid request per operation of core.OPS, for specs that walk the
-- table: samples[name](srv, id) -> the argument of client:<name>.
-- `id` is an existing webhook's id; create needs none.
return {
  create = function(srv)
    return { events = { "MODEL_VERSION_CREATED" }, model_name = "ops-walk",
      http_url_spec = { url = srv.url .. "/__control/sink", secret = "s" } }
  end,
  list = function() return { model_name = "ops-walk" } end,
  update = function(_, id) return { id = id, description = "walked" } end,
  delete = function(_, id) return id end,
  test = function(_, id) return { id = id } end,
}
