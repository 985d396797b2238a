-- Model registry of the training service: versions (immutable), the live deployment per model,
-- and the deployment history that rollbacks read.
CREATE TABLE model_versions (
    tenant_id text NOT NULL,
    name text NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    -- The training job that produced the version: a redelivered job finds its version here.
    job_id uuid NOT NULL UNIQUE,
    blob_prefix text NOT NULL,
    labels jsonb NOT NULL,
    metrics jsonb NOT NULL,
    dataset_sha256 text NOT NULL,
    train_examples integer NOT NULL,
    validation_examples integer NOT NULL,
    base_model text NOT NULL,
    params jsonb NOT NULL,
    device text NOT NULL,
    train_seconds double precision NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name, version)
);

CREATE TABLE model_deployments (
    tenant_id text NOT NULL,
    name text NOT NULL,
    version integer NOT NULL,
    deployed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name),
    FOREIGN KEY (tenant_id, name, version) REFERENCES model_versions (tenant_id, name, version)
);

CREATE TABLE model_deployment_history (
    id bigserial PRIMARY KEY,
    tenant_id text NOT NULL,
    name text NOT NULL,
    action text NOT NULL CHECK (action IN ('deploy', 'undeploy', 'rollback')),
    -- NULL for undeploy.
    version integer,
    previous_version integer,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_deployment_history_model ON model_deployment_history (tenant_id, name, id);
