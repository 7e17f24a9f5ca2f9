-- The help texts of the command-line tool, one per command.
local M = {}

M.main = [[
Usage: databricks-webhooks COMMAND [OPTIONS]

Manage Databricks Model Registry webhooks, or the webhooks of an open-source
MLflow tracking server (3.3 or later) with --api mlflow.

Commands:
  create    create a webhook and print it
  list      print webhooks (one page, or every page with --all)
  get       print one webhook
  update    change one webhook, several, or every webhook of a model
  delete    delete one webhook, several, or every webhook of a model
  test      have the workspace send a test delivery; print the answer
  events    print the event names a webhook can listen to
  export    print the webhooks as a desired-state file (webhooks as code)
  plan      show what apply would change to match a desired-state file
  apply     change the workspace to match a desired-state file
  local-workspace start|status|stop DIR
            a stand-in workspace on 127.0.0.1 to test your automation against
            (local-workspace --help for its options)

The Databricks CLI's verbs (`databricks model-registry ...`) work too:
  create-webhook --json JSON|@FILE      list-webhooks [--model-name M] [--max-results N]
  update-webhook ID [--json JSON|@FILE] delete-webhook ID
  test-registry-webhook ID [--event E]  test-registry-webhook --json '{"id": "ID"}'

Options of every command:
  --api API               databricks (the default) or mlflow: which kind of
                          server (default: DATABRICKS_WEBHOOKS_API, else
                          databricks; never guessed from the variables set)
  --host URL              workspace URL (default: DATABRICKS_HOST, else the
                          profile); with --api mlflow the tracking server's URL
                          (default: MLFLOW_TRACKING_URI)
  --token TOKEN           with --api mlflow: the Bearer token (default:
                          MLFLOW_TRACKING_TOKEN; visible to ps, prefer the variable)
  --profile NAME          profile of ~/.databrickscfg (or of DATABRICKS_CONFIG_FILE)
  --timeout SECONDS       limit for one HTTP exchange (default 60)
  --retry-timeout SECONDS budget for retrying 429/503 and failed connects
                          (default 30; 0 disables retries); each retry is
                          announced on stderr
  -o, --output FORMAT     json (one JSON document) or text (the default: table
                          or tsv, as --format says); -oFORMAT, -o=FORMAT too
  --format FORMAT         table (default when stdout is a terminal), tsv (default
                          otherwise: tab-separated, no header) or json
  --json JSON|@FILE       the request body of create, update and test (and
                          their Databricks CLI verbs): inline JSON, or read from
                          FILE (@- reads stdin)
  --debug                 print the library's debug lines (one per attempt,
                          secrets redacted) on stderr
  -h, --help              print help (for a command: COMMAND --help)
  --version               print the version

Options may come before or after the command; --name VALUE and --name=VALUE
are the same (a value starting with "--" needs the second form). --model-name
is another name for --model.

Deprecated: --json with no value after it (the last argument, or followed by
an option or a command name) is the output flag of earlier releases, the same
as -o json; it prints a warning on stderr and goes in the next release. Any
other argument after --json is its value, the request body: so 'delete --json
ID' is refused (delete takes no body) where it used to print JSON.

Credentials come from the environment or from the profile, resolved as
webhooks.new does (the SDKs' order; DATABRICKS_AUTH_TYPE forces one kind):
  pat                  DATABRICKS_TOKEN
  oauth-m2m            DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET
  basic                DATABRICKS_USERNAME, DATABRICKS_PASSWORD
  metadata-service     DATABRICKS_METADATA_SERVICE_URL
  env-oidc, file-oidc  DATABRICKS_CLIENT_ID with DATABRICKS_OIDC_TOKEN or
                       DATABRICKS_OIDC_TOKEN_FILEPATH
  github-oidc          DATABRICKS_CLIENT_ID in GitHub Actions (id-token: write)
  azure-client-secret  ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID
  databricks-cli       a profile with auth_type = databricks-cli
See docs/auth.md for each kind's profile keys and sources.
With --host and no profile named (no --profile, no DATABRICKS_CONFIG_PROFILE)
and no credentials in the environment, the profile whose host matches --host is
used, as the Databricks CLI does (the Lua module itself never reads the file
then). Secrets and access tokens are never printed.

Open-source MLflow servers (--api mlflow, or DATABRICKS_WEBHOOKS_API=mlflow):
the host is --host or MLFLOW_TRACKING_URI; credentials are --token, else
MLFLOW_TRACKING_TOKEN, else MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD
(Basic), else none (a server without authentication); ~/.databrickscfg is not
read. A webhook has a --name, a --url and events named "entity.action"
(databricks-webhooks events --api mlflow), status ACTIVE or DISABLED, and no
model: --model, --profile, --job-id, --all on update and delete, and the
Databricks CLI's verbs are refused. See docs/mlflow-cli.md.

Exit status: 0 success; 1 the API returned an error; 2 usage or configuration
error (nothing was sent); 3 network, TLS or timeout error; 4 (plan only)
changes pending; 5 update or delete --model M --all matched no webhook.
For bulk commands and apply, 0 only if every webhook succeeded, else 3 if any
network error, else 1.

Run 'databricks-webhooks COMMAND --help' for the options of a command.
]]

M.create = [[
Usage: databricks-webhooks create --event EVENT [--event EVENT...]
           (--url URL [--secret-file PATH] | --job-id ID --access-token-file PATH)
           [--model NAME] [--status STATUS] [--description TEXT] [OPTIONS]

       databricks-webhooks create --api mlflow --name NAME --url URL
           --event EVENT [--event EVENT...] [--secret-file PATH]
           [--status STATUS] [--description TEXT] [OPTIONS]

Create a webhook and print it (one row; with -o json the webhook object).

  --event EVENT             event that fires the webhook; repeat, or separate
                            names with commas (see 'databricks-webhooks events')
  --model NAME              only for this registered model (default: all models)
  --url URL                 endpoint the deliveries are POSTed to
  --secret-file PATH        read the secret that signs deliveries from PATH;
                            '-' reads stdin; one trailing newline is dropped
  --secret SECRET           the secret itself (visible to ps and in shell history;
                            prefer --secret-file)
  --job-id ID               trigger this job instead of calling a URL
  --access-token-file PATH  read the token that triggers the job ('-' for stdin)
  --workspace-url URL       workspace of the job (default: this one)
  --status STATUS           ACTIVE, DISABLED or TEST_MODE
  --description TEXT        free text
  --json JSON|@FILE         the request body (see create-webhook --help); the
                            options above add fields it does not set

Columns: ID, MODEL, STATUS, EVENTS, TARGET (the URL, or job:ID), DESCRIPTION.

On an MLflow server (--api mlflow): --name (1-63 letters, digits, '.', '_',
'-'; names need not be unique), --url, and events such as
model_version.created (either case; 'databricks-webhooks events --api mlflow'
lists them); --secret-file or --secret signs the deliveries; --status ACTIVE or
DISABLED. Columns: ID, NAME, STATUS, EVENTS, URL, DESCRIPTION.
Plus the options of every command (databricks-webhooks --help).
]]

M.get = [[
Usage: databricks-webhooks get ID [--model NAME] [OPTIONS]
       databricks-webhooks get --api mlflow ID [OPTIONS]

Print one webhook (one row as list prints it; with -o json the webhook
object). An MLflow server reads it by id; a Databricks workspace has no such
call, so its pages are listed until the id turns up (--model NAME lists only
that model's). No webhook with the id: exit 1, RESOURCE_DOES_NOT_EXIST.

Plus the options of every command (databricks-webhooks --help).
]]

M["create-webhook"] = [[
Usage: databricks-webhooks create-webhook --json JSON|@FILE [OPTIONS]
       databricks-webhooks create-webhook --event EVENT --url URL ... [OPTIONS]

The Databricks CLI's verb: create a webhook from the request body of the API
(POST /api/2.0/mlflow/registry-webhooks/create), given inline or read from
FILE (@- reads stdin), e.g.
  --json '{"model_name": "m", "events": ["MODEL_VERSION_CREATED"],
           "http_url_spec": {"url": "https://example.com/hook"}}'
The options of create may add fields the body does not set. --json is the
body, as in the Databricks CLI: -o json prints the webhook as JSON, e.g.
  databricks-webhooks create-webhook --json @body.json -o json
Plus the options of every command (databricks-webhooks --help).
]]

M.list = [[
Usage: databricks-webhooks list [--model NAME] [--event EVENT...] [--all]
           [--max-pages N] [--max-results N] [--page-token TOKEN] [OPTIONS]

Print webhooks, one row each: ID, MODEL, STATUS, EVENTS, TARGET, DESCRIPTION.
Without --all, prints one page; when more remain, the token of the next page
is written to stderr (with -o json it is the document's next_page_token).

  --model NAME          only webhooks of this registered model (or --model-name)
  --event EVENT         only webhooks listening to EVENT; repeatable
  --all                 follow every page: at most --max-pages of them, and
                        never a page token the server sent before (exit 1)
  --max-pages N         with --all, the most pages to fetch (default 10000)
  --max-results N       webhooks per page
  --page-token TOKEN    start at this page

With -o json: {"webhooks": [...], "next_page_token": "..."}, keys in a fixed
order, so that the same webhooks give the same bytes on every run.

On an MLflow server (--api mlflow): rows of ID, NAME, STATUS, EVENTS, URL,
DESCRIPTION, newest first; --max-results is 1 to 1000; its list has no
filters, so --model and --event are refused.
Plus the options of every command (databricks-webhooks --help).
]]

M["list-webhooks"] = [[
Usage: databricks-webhooks list-webhooks [--model-name NAME] [--event EVENT...]
           [--max-results N] [--page-token TOKEN] [--all] [--max-pages N] [OPTIONS]

The Databricks CLI's verb: the same as 'databricks-webhooks list'.
Plus the options of every command (databricks-webhooks --help).
]]

M.update = [[
Usage: databricks-webhooks update ID [ID...] CHANGES [OPTIONS]
       databricks-webhooks update --model NAME --all CHANGES [OPTIONS]

Change webhooks. With one ID, print the updated webhook. With several, or with
--all (every webhook of the model), update them concurrently and print one
line per webhook: ID, then ok, or error and the error (a failure does not stop
the others; with -o json an array of {"id", "ok", "webhook" | "error"}). On a
terminal, bulk work shows its progress on stderr. When --all matches no
webhook, this is said on stderr and the exit status is 5.

Changes (at least one):
  --status STATUS           ACTIVE, DISABLED or TEST_MODE
  --description TEXT        free text
  --event EVENT             replace the events; repeatable (not with --all)
  --url URL                 replace the target with this URL, with
  --secret-file PATH        its secret ('-' for stdin), or --secret SECRET
  --job-id ID               replace the target with this job, with
  --access-token-file PATH  its token ('-' for stdin), and --workspace-url URL

  ID, --id ID               webhook to change; repeatable
  --model NAME --all        every webhook of this registered model
  --parallel N              requests in flight at once, 1 to 64 (default 8)
  --json JSON|@FILE         the request body (see update-webhook --help)

On an MLflow server (--api mlflow) the changes are --status (ACTIVE or
DISABLED), --description, --event (replaces the set), --url, --name, and
--secret-file PATH or --secret SECRET. Without --status the webhook's current
status is read and sent again (the server's update would otherwise make it
ACTIVE). A description or secret cannot be cleared there. There are no models,
so no --all: give the ids.

Plus the options of every command (databricks-webhooks --help).
]]

M["update-webhook"] = [[
Usage: databricks-webhooks update-webhook ID [--json JSON|@FILE] [CHANGES] [OPTIONS]

The Databricks CLI's verb: change one webhook, from the request body of the API
(PATCH /api/2.0/mlflow/registry-webhooks/update; its "id" may stand for ID)
given inline or read from FILE (@- reads stdin), and/or from the changes of
'databricks-webhooks update'. Print the updated webhook.
Plus the options of every command (databricks-webhooks --help).
]]

M.delete = [[
Usage: databricks-webhooks delete ID [ID...] [OPTIONS]
       databricks-webhooks delete --model NAME --all [--event EVENT...] [--yes] [OPTIONS]

Delete webhooks concurrently; print one line per webhook: ID, then ok, or error
and the error. A failure does not stop the others. With -o json, an array of
{"id": ..., "ok": true} or {"id": ..., "ok": false, "error": {...}}.

  ID, --id ID           webhook to delete; repeatable
  --model NAME --all    every webhook of this registered model
  --event EVENT         with --all: only those listening to EVENT; repeatable
  --parallel N          requests in flight at once, 1 to 64 (default 8)
  --yes                 do not ask for confirmation (needed for --all without a
                        terminal to ask on)

With --all on a terminal, the webhooks found are counted and confirmation is
asked first (unless --yes), and the progress is shown on stderr. When --all
matches no webhook, this is said on stderr and the exit status is 5.
On an MLflow server (--api mlflow) give the ids: it has no models, so no --all.
Plus the options of every command (databricks-webhooks --help).
]]

M["delete-webhook"] = [[
Usage: databricks-webhooks delete-webhook ID [OPTIONS]

The Databricks CLI's verb: delete the webhook ID (no confirmation is asked, as
with the Databricks CLI). The same as 'databricks-webhooks delete ID'.
Plus the options of every command (databricks-webhooks --help).
]]

M.test = [[
Usage: databricks-webhooks test ID [--event EVENT] [OPTIONS]

Have the workspace send a test delivery to the webhook, and print what the
receiver answered: STATUS_CODE and BODY (with -o json {"status_code", "body"}).

  ID, --id ID           the webhook
  --event EVENT         the event to simulate (default: the workspace picks one
                        of the webhook's events at random)
  --json JSON|@FILE     the request body: {"id": ID, "event": EVENT}

On an MLflow server (--api mlflow) the server sends its example payload of
EVENT (any valid "entity.action", even one the webhook does not listen to;
default: the webhook's first event), to DISABLED webhooks too, and prints
SUCCESS, RESPONSE_STATUS, RESPONSE_BODY and ERROR_MESSAGE (with -o json
{"success", "response_status", "response_body", "error_message"}). A receiver
that failed (success false) is still exit 0: the answer is the result.

Plus the options of every command (databricks-webhooks --help).
]]

M["test-registry-webhook"] = [[
Usage: databricks-webhooks test-registry-webhook ID [--event EVENT] [OPTIONS]
       databricks-webhooks test-registry-webhook --json JSON|@FILE [OPTIONS]

The Databricks CLI's verb: the same as 'databricks-webhooks test ID'. The
request body {"id": ID, "event": EVENT} may be given as --json, inline or
@FILE. Without an event, the workspace picks one of the webhook's events at
random.
Plus the options of every command (databricks-webhooks --help).
]]

M.export = [[
Usage: databricks-webhooks export [--model NAME...] [OPTIONS]

Print the webhooks (every one, or those of each --model) as a desired-state
file for plan and apply:
  {"version": 1, "model_names": [...], "webhooks": [{...}, ...]}
Secrets are write-only and cannot be read back: each webhook gets a reference
{"env": "WEBHOOK_<n>_SECRET"} (or _ACCESS_TOKEN for a job) to fill in, or to
remove when the webhook has no secret.

  --model NAME          only webhooks of this registered model; repeatable
                        (the file's model_names, the scope of plan and apply)

On an MLflow server (--api mlflow): every webhook, sorted by name, in a file
that says "api": "mlflow", each secret as {"env": "WEBHOOK_<n>_SECRET"}. Names
the server holds more than once are warned about on stderr: plan refuses a
file naming one twice.

Plus the options of every command (databricks-webhooks --help).
]]

M.plan = [[
Usage: databricks-webhooks plan -f FILE [--prune] [--rotate-secrets]
           [--allow-file-outside] [-o json] [OPTIONS]

Compare the desired-state FILE with the workspace and print what apply would
do: "+ create", "~ update" with old -> new values, "- delete" (only with
--prune). Nothing is changed.

  -f, --file FILE       the desired-state file ('-' reads stdin)
  --prune               delete webhooks in scope that the file does not list
                        (scope: the file's model_names, else the whole registry)
  --rotate-secrets      send every secret again (secrets are write-only, so
                        they are otherwise never compared)
  --allow-file-outside  let {"file": PATH} references leave FILE's folder

A webhook is identified by its model (or registry-wide) and its target: the
URL, or the job id and workspace URL. Secrets in the file are references,
{"env": "NAME"} or {"file": "PATH"}, read by apply; plan does not need them.
The file is code: apply sends what its references name to the URLs it names.
A {"file": PATH} (relative to the current directory) outside FILE's folder
is refused, by plan too, unless --allow-file-outside; review the file as code.

On an MLflow server (--api mlflow; a file with "api": "mlflow" needs it) a
webhook is identified by its name, and a file naming one twice is refused.
Compared: url, events (as a set), description, status; the secret as above.
A name the server holds more than once is a conflict: shown as "! conflict"
with the ids, and never acted on (delete the extra webhooks first). See
docs/mlflow-cli.md.

Exit status: 0 no changes; 4 changes pending (or conflicts); 1, 2, 3 as for
every command. With -o json, one document: {"changes", "counts", "actions":
[...], ...} (and "conflicts" for an MLflow server).
Plus the options of every command (databricks-webhooks --help).
]]

M.apply = [[
Usage: databricks-webhooks apply -f FILE [--prune] [--rotate-secrets] [--yes]
           [--parallel N] [--allow-file-outside] [OPTIONS]

Make the workspace match the desired-state FILE: print the plan (as plan
does), ask for confirmation, then create, update and delete concurrently
(creates first, deletes last) and print one line per change: ACTION, ID,
TARGET, RESULT and the error. A failure does not stop the others; running
apply again finishes what failed, without duplicates.

  -f, --file FILE       the desired-state file
  --prune               also delete webhooks in scope that the file does not list
  --rotate-secrets      send every secret again
  --yes                 do not ask (required when stdin is not a terminal)
  --parallel N          requests in flight at once, 1 to 64 (default 8)
  --allow-file-outside  let {"file": PATH} references leave FILE's folder

Every secret reference ({"env": NAME}, {"file": PATH}) a change needs is read
before anything is sent; one that cannot be read stops apply (exit 2). The
file is code: it sends what its references name to the URLs it names. A
{"file": PATH} outside FILE's folder is refused unless --allow-file-outside.
Progress goes to stderr for runs of 10 changes or more.
On an MLflow server (--api mlflow), names in conflict (several webhooks with
one name) are left alone and reported on stderr, and the exit status is 1;
every update sends the status, so a DISABLED webhook stays DISABLED.
Plus the options of every command (databricks-webhooks --help).
]]

M.events = [[
Usage: databricks-webhooks events [--api mlflow] [-o json]

Print the event names a webhook can listen to, one per line (with -o json an
array). Needs no workspace and no credentials. With --api mlflow, an MLflow
server's "entity.action" names (model_version.created, prompt_alias.deleted...).
]]

return M
