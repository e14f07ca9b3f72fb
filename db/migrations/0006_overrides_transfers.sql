CREATE TABLE "budget_transfers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"kind" text NOT NULL,
	"from_account" text,
	"from_cost_center" text,
	"from_period" text,
	"to_account" text NOT NULL,
	"to_cost_center" text NOT NULL,
	"to_period" text NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"requested_by" text NOT NULL,
	"request_key" text NOT NULL,
	"status" text DEFAULT 'awaiting_approval' NOT NULL,
	"decided_by" text,
	"decision_comment" text,
	"decided_at" timestamp with time zone,
	"outcome_reason" text,
	"applied_at" timestamp with time zone,
	"erp_document" text,
	"published_at" timestamp with time zone,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_transfers_request" UNIQUE("requested_by","request_key")
);
--> statement-breakpoint
CREATE TABLE "funds_overrides" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"requester" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"legal_entity" text NOT NULL,
	"lines" jsonb NOT NULL,
	"requested_by" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"decided_by" text,
	"decision_comment" text,
	"decided_at" timestamp with time zone,
	"outcome_reason" text,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "funds_overrides_request" UNIQUE("requester","idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "control_balances" ADD COLUMN "transferred" numeric(24, 6) DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_transfers" ADD CONSTRAINT "budget_transfers_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "funds_overrides" ADD CONSTRAINT "funds_overrides_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;