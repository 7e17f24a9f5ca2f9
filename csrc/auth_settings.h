/*
 * auth_settings.h - the token sources' settings, listed once: the enum that
 * indexes c->auth_set and the names core.new's settings table gives them both
 * come from DBW_AUTH_SETTINGS. Its own header so that client.h can size
 * auth_set without including auth.h (which includes client.h).
 */
#ifndef DBW_AUTH_SETTINGS_H
#define DBW_AUTH_SETTINGS_H

/* X(ENUM_SUFFIX, "settings field") */
#define DBW_AUTH_SETTINGS(X)                                                                                 \
    X(USERNAME, "username")                                                                                  \
    X(PASSWORD, "password")                                                                                  \
    X(AZURE_TENANT_ID, "azure_tenant_id")                                                                    \
    X(AZURE_CLIENT_ID, "azure_client_id")                                                                    \
    X(AZURE_CLIENT_SECRET, "azure_client_secret")                                                            \
    X(AZURE_LOGIN_HOST, "azure_login_host")                                                                  \
    X(METADATA_SERVICE_URL, "metadata_service_url")                                                          \
    X(OIDC_TOKEN, "oidc_token")                                                                              \
    X(OIDC_TOKEN_FILEPATH, "oidc_token_filepath")                                                            \
    X(ID_TOKEN_REQUEST_URL, "id_token_request_url")                                                          \
    X(ID_TOKEN_REQUEST_TOKEN, "id_token_request_token")                                                      \
    X(TOKEN_AUDIENCE, "token_audience")                                                                      \
    X(SCOPES, "scopes")

#define DBW_AS_ENUM_ITEM(id, name) DBW_AS_##id,
/* c->auth_set[i] holds an owned copy (wiped when freed) or NULL. */
typedef enum { DBW_AUTH_SETTINGS(DBW_AS_ENUM_ITEM) DBW_AS_COUNT } dbw_auth_setting;
#undef DBW_AS_ENUM_ITEM

#endif
