from shared.infra.migrations import run_env
from shared.infra.tables import infra_metadata
from services.notify.models import Base

run_env([Base.metadata, infra_metadata])
