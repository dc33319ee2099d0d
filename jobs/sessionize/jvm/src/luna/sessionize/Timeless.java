package luna.sessionize;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * A control stream (published template versions) that takes no part in event time: its records pass, its
 * watermarks are dropped and it declares itself idle from the start, so an operator it is connected to takes its
 * watermark from the data input alone. Without it, every such operator waited for the control source's own idle
 * timeout (measured: the correlate stage's watermark lagged the data by more than the session timeout, so sessions
 * were written open by the timeout and closed only by the next batch).
 */
public final class Timeless<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;

    @Override
    public void open() throws Exception {
        super.open();
        output.emitWatermarkStatus(WatermarkStatus.IDLE);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) {}

    @Override
    public void processWatermarkStatus(WatermarkStatus status) {}
}
