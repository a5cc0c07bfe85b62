-- History in blocks (issue 13): one row per VM per minute of raw samples, per hour of 1-minute
-- rollups, per day of 1-hour rollups, each encoded by server/src/features/telemetry/stores/.
-- Written by hand: the old tables are renamed, not dropped, so that the store converts their rows
-- at its first start (postgres-legacy.ts) and then drops them.

-- RenameTables
ALTER TABLE "VmSample" RENAME TO "VmSampleLegacy";
ALTER TABLE "VmSampleMinute" RENAME TO "VmSampleMinuteLegacy";
ALTER TABLE "VmSampleHour" RENAME TO "VmSampleHourLegacy";

-- CreateTable
CREATE TABLE "VmSampleBlock" (
    "vmId" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "samples" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    "summary" BYTEA NOT NULL,

    CONSTRAINT "VmSampleBlock_pkey" PRIMARY KEY ("vmId","ts")
);

-- CreateTable
CREATE TABLE "VmMinuteBlock" (
    "vmId" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "samples" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    "summary" BYTEA NOT NULL,

    CONSTRAINT "VmMinuteBlock_pkey" PRIMARY KEY ("vmId","ts")
);

-- CreateTable
CREATE TABLE "VmHourBlock" (
    "vmId" INTEGER NOT NULL,
    "ts" TIMESTAMPTZ(3) NOT NULL,
    "samples" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    "summary" BYTEA NOT NULL,

    CONSTRAINT "VmHourBlock_pkey" PRIMARY KEY ("vmId","ts")
);

-- CreateIndex
CREATE INDEX "VmSampleBlock_ts_idx" ON "VmSampleBlock" USING BRIN ("ts");

-- CreateIndex
CREATE INDEX "VmMinuteBlock_ts_idx" ON "VmMinuteBlock" USING BRIN ("ts");

-- CreateIndex
CREATE INDEX "VmHourBlock_ts_idx" ON "VmHourBlock" USING BRIN ("ts");
