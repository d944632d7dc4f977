from shared.infra.migrations import INFRA_VERSION_TABLE, run_env
from shared.infra.tables import infra_metadata

run_env(infra_metadata, version_table=INFRA_VERSION_TABLE)
