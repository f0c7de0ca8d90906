import Foundation
import Testing

@testable import Pipelines

@Suite(.timeLimit(.minutes(1))) struct WorkerThreadTests {
    @Test func resultWaitsForTheWork() throws {
        let worker = WorkerThread<Int>()
        let gate = DispatchSemaphore(value: 0)
        worker.start {
            gate.wait()
            return 42
        }
        #expect(try worker.resultIfDone() == nil)
        gate.signal()
        #expect(try worker.result() == 42)
        #expect(try worker.resultIfDone() == 42)
        worker.cancelAndWait()
    }

    @Test func aThrownErrorIsTheResult() {
        let worker = WorkerThread<Int>()
        worker.start { throw PipelineError(.data, "bad row") }
        #expect(throws: PipelineError.self) { try worker.result() }
        worker.cancelAndWait()
    }

    @Test func cancellingStopsWorkThatChecksTheFlag() throws {
        let worker = WorkerThread<Int>()
        worker.start {
            var rounds = 0
            while !worker.condition.withLock({ worker.isCancelled }) {
                rounds += 1
                usleep(1000)
            }
            return rounds
        }
        worker.cancelAndWait()
        #expect(try worker.resultIfDone() != nil)
    }

    @Test func cancellingAWorkerThatNeverStartedReturns() {
        WorkerThread<Void>().cancelAndWait()
    }
}
