CREATE TABLE "file_feeds" (
	"code" text PRIMARY KEY NOT NULL,
	"legal_entity" text NOT NULL,
	"kind" text NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inbox_files" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"feed_code" text NOT NULL,
	"name" text NOT NULL,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"generation" integer DEFAULT 0 NOT NULL,
	"status" text NOT NULL,
	"outcome" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"moved_to" text,
	"report" text,
	"correlation_id" text NOT NULL,
	"reprocess_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "inbox_files_content" UNIQUE("feed_code","sha256","generation")
);
--> statement-breakpoint
ALTER TABLE "file_feeds" ADD CONSTRAINT "file_feeds_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbox_files" ADD CONSTRAINT "inbox_files_feed_code_file_feeds_code_fk" FOREIGN KEY ("feed_code") REFERENCES "public"."file_feeds"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inbox_files_name" ON "inbox_files" USING btree ("feed_code","name");