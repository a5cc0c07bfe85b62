-- DropIndex
DROP INDEX "MemoryDump_finishedAt_idx";

-- CreateIndex
CREATE INDEX "MemoryDump_finishedAt_id_idx" ON "MemoryDump"("finishedAt" DESC, "id" DESC);
