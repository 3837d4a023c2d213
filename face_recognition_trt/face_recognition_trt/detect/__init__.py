"""Detection: MTCNN finds faces, their boxes, scores and 5 landmarks.

    mtcnn.py       the three networks run as a cascade (P-Net pyramid, R-Net, O-Net), and tracking's
                   O-Net-only pass on known boxes
    mtcnn_math.py  the maths as pure functions: pyramid scales, NMS, box regression, crops
The networks' definitions, used only to convert the weights, are in models/conversion/.
"""
