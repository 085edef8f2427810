ALTER TABLE "payments" ADD COLUMN "payment_identifier" text;--> statement-breakpoint
CREATE INDEX "payments_identifier" ON "payments" USING btree ("payer","payment_identifier");