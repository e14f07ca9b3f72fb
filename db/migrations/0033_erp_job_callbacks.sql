CREATE TABLE "erp_job_callbacks" (
	"system" text NOT NULL,
	"request_id" text NOT NULL,
	"outcome" text NOT NULL,
	"jobs" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "erp_job_callbacks_system_request_id_pk" PRIMARY KEY("system","request_id")
);
