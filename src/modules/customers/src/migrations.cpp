#include "migrations.hpp"

#include "core/events/outbox.hpp"
#include "core/events/pruning.hpp"

namespace deliveryhub::customers {

std::vector<core::db::Migration> migrations() {
  return {
      {1, "accounts and addresses",
       "CREATE TABLE customers_accounts ("
       " id TEXT PRIMARY KEY,"
       " email TEXT NOT NULL UNIQUE,"  // stored lower-case: unique case-insensitively
       " password_hash TEXT NOT NULL,"
       " role TEXT NOT NULL CHECK (role IN ('customer', 'courier', 'operator')),"
       " name TEXT NOT NULL,"
       " phone TEXT,"
       " status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX customers_accounts_role ON customers_accounts (role, id);"
       "CREATE TABLE customers_addresses ("
       " id TEXT PRIMARY KEY,"
       " customer_id TEXT NOT NULL REFERENCES customers_accounts (id),"
       " label TEXT NOT NULL,"
       " line1 TEXT NOT NULL,"
       " city TEXT NOT NULL,"
       " postal_code TEXT NOT NULL,"
       " country TEXT NOT NULL,"
       " created_at BIGINT NOT NULL);"
       "CREATE INDEX customers_addresses_customer ON customers_addresses (customer_id);"},
      {2, "refresh tokens",
       "CREATE TABLE customers_refresh_tokens ("
       " token_hash TEXT PRIMARY KEY,"
       " family_id TEXT NOT NULL,"
       " account_id TEXT NOT NULL REFERENCES customers_accounts (id),"
       " created_at BIGINT NOT NULL,"
       " expires_at BIGINT NOT NULL,"
       " used_at BIGINT,"
       " revoked_at BIGINT);"
       "CREATE INDEX customers_refresh_tokens_family ON customers_refresh_tokens (family_id);"},
      core::events::event_tables_migration("customers", 3),
      core::events::relay_lease_migration("customers", 4),
      {5, "suspensions found by time; refresh tokens by account",
       "CREATE INDEX customers_accounts_suspended ON customers_accounts (status, updated_at);"
       "CREATE INDEX customers_refresh_tokens_account ON customers_refresh_tokens (account_id);"},
      core::events::event_pruning_migration("customers", 6),
      {7, "authorization codes (PKCE); refresh tokens remember their public client",
       "CREATE TABLE customers_authorization_codes ("
       " code_hash TEXT PRIMARY KEY,"
       " client_id TEXT NOT NULL,"
       " redirect_uri TEXT NOT NULL,"
       " code_challenge TEXT NOT NULL,"
       " account_id TEXT NOT NULL REFERENCES customers_accounts (id),"
       " created_at BIGINT NOT NULL,"
       " expires_at BIGINT NOT NULL,"
       " used_at BIGINT,"
       " family_id TEXT);"
       "CREATE INDEX customers_authorization_codes_expiry ON customers_authorization_codes (expires_at);"
       "ALTER TABLE customers_refresh_tokens ADD COLUMN client_id TEXT;"},
  };
}

}  // namespace deliveryhub::customers
