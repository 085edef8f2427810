CREATE TABLE "owed_stops" (
	"robot_id" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"owed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "robots" ADD COLUMN "device_token_hash" varchar(64);--> statement-breakpoint
ALTER TABLE "robots" ADD COLUMN "settings" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "robots_device_token" ON "robots" USING btree ("device_token_hash");